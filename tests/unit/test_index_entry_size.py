"""Index entries are kept per resource for the operator's life: no ``__dict__`` each, and the strings
that many resources hold alike are held once (docs/benchmarks.md, "Memory per schedule")."""

from __future__ import annotations

import json
from typing import Any

from sundial.controller.accounting_index import Tracked, tracked_from_body
from sundial.domain.indexed import IndexedSchedule, indexed_from_body
from sundial.domain.schedule_metrics import metrics_from_body


def body(name: str) -> dict[str, Any]:
    """A body as the watch stream gives it: decoded from JSON, so its strings are its own copies."""
    text = json.dumps({
        "metadata": {"namespace": "team-a", "name": name, "uid": f"uid-{name}", "generation": 1},
        "spec": {"schedule": "0 9 * * *", "timeZone": "Asia/Tokyo"},
        "status": {"phase": "Active", "observedGeneration": 1, "nextRunTime": "2026-12-02T00:00:00Z",
                   "conditions": [{"type": "Firing", "status": "True", "reason": "OnTime"}]}})
    decoded: dict[str, Any] = json.loads(text)
    return decoded


def test_entries_have_no_per_instance_dict() -> None:
    assert not hasattr(indexed_from_body(body("a")), "__dict__")
    assert not hasattr(tracked_from_body(body("a")), "__dict__")
    assert IndexedSchedule.__slots__ and Tracked.__slots__


def test_strings_many_resources_share_are_held_once() -> None:
    first, second = body("a"), body("b")
    assert first["status"]["phase"] is not second["status"]["phase"]  # two decodes, two copies
    a, b = indexed_from_body(first), indexed_from_body(second)
    for field in ("phase", "next_run_time", "time_zone", "firing", "firing_reason"):
        assert getattr(a, field) is getattr(b, field), field
    assert tracked_from_body(first).namespace is tracked_from_body(second).namespace
    ma, mb = metrics_from_body(first), metrics_from_body(second)
    assert ma.namespace is mb.namespace and ma.cron is mb.cron and ma.timezone is mb.timezone
