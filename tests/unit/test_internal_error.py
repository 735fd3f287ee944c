"""An exception no rule foresaw becomes Ready=False, reason InternalError, not a silent retry loop (issue 10, item 9).

The adapters are replaced by small fakes with the real gateways' method names; the
reconcile and the OperatorContext are the real ones.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import kopf
import pytest

from sundial.controller.context import OperatorContext
from sundial.controller.reconcile import reconcile
from sundial.domain.status import Status
from sundial.domain.validation import Peers
from sundial.settings import Settings

BODY: dict[str, Any] = {
    "metadata": {"namespace": "team-a", "name": "digest", "uid": "u1", "generation": 1,
                 "creationTimestamp": "2026-06-01T00:00:00Z"},
    "spec": {"schedule": "0 9 * * *", "task": {"query": "q"}},
}


class BrokenTemporal:
    """A Temporal gateway with a bug: describe and create raise what no one planned for."""

    async def describe(self, schedule_id: str) -> Any:
        raise KeyError("calendars")

    async def create(self, identity: Any, desired: Any) -> Any:  # a new resource creates first
        raise KeyError("calendars")


class RecordingKube:
    def __init__(self) -> None:
        self.status: dict[str, Any] = {}
        self.events: list[tuple[str, str, str]] = []

    async def patch_status(self, namespace: str, name: str, patch: Status,
                           resource_version: str | None = None) -> None:
        self.status.update(patch)

    async def post_event(self, namespace: str, name: str, uid: str, event_type: str, reason: str,
                         message: str) -> None:
        self.events.append((event_type, reason, message))


def test_an_unexpected_exception_is_shown_in_status_and_an_event_then_retried() -> None:
    kube = RecordingKube()
    ctx = OperatorContext(settings=Settings(), temporal=BrokenTemporal(), kube=kube,  # type: ignore[arg-type]
                          cluster_id="c1", logger=logging.getLogger("test"))
    async def scenario() -> None:
        await reconcile(ctx, BODY, Peers())

    with pytest.raises(kopf.TemporaryError):
        asyncio.run(scenario())
    ready = next(c for c in kube.status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"], ready["message"]) == ("False", "InternalError", "KeyError: 'calendars'")
    assert kube.events == [("Warning", "InternalError", "KeyError: 'calendars'")]
