"""Every refusal of a spec rule: Invalid, Stalled with the reason, a Warning Event, nothing in Temporal.

The status-side backstop: these namespaces are left out of the admission webhooks (test_admission.py
shows the same specs refused at ``kubectl apply``).
"""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.client import Client
from tests.e2e.helpers import Kube, condition, create_ready, ready
from tests.e2e.test_schedule_lifecycle import (
    EXAMPLE_SPEC,
    describe,
    schedule_exists,
    schedule_id,
)
from tests.support.waiting import eventually

from sundial.devstack.operator_process import OperatorProcess


def stalled(kube: Kube, namespace: str, name: str) -> dict[str, Any] | None:
    body = kube.get(namespace, name)
    if condition(body, "Stalled").get("status") == "True":
        return body
    return None


def warning_reasons(kube: Kube, namespace: str, name: str) -> list[str]:
    return [str(e.reason) for e in kube.events(namespace, name) if e.type == "Warning"]


REFUSALS = [
    pytest.param({"schedule": "0 25 * * *"}, "InvalidCronExpression", "spec.schedule", id="hour-25"),
    pytest.param({"schedule": "*/5 * * * *"}, "IntervalTooShort", "60 min", id="every-5-min"),
    pytest.param({"schedule": "0,45 0 * * *"}, "IntervalTooShort", "60 min", id="45-min-gap"),
    pytest.param({"timeZone": "Mars/Phobos"}, "InvalidTimezone", "Mars/Phobos", id="mars"),
    # Temporal would run this every minute (it keeps 32 bits of a step); a system-database file, not a zone
    pytest.param({"schedule": "0/4294967296 * * * *"}, "InvalidCronExpression", "0-59", id="step-2**32"),
    pytest.param({"timeZone": "posixrules"}, "InvalidTimezone", "posixrules", id="posixrules"),
    pytest.param({"maxBudgetPerRunUSD": 50}, "BudgetExceeded", "10", id="budget-50"),
    pytest.param({"displayName": "x" * 256}, "InvalidSpec", "255", id="displayname-256"),
]


@pytest.mark.parametrize(("change", "reason", "mentions"), REFUSALS)
async def test_refused_spec_is_stalled_with_reason_and_warning_and_absent_from_temporal(
    operator: OperatorProcess, kube: Kube, temporal_client: Client, change: dict[str, Any], reason: str,
    mentions: str,
) -> None:
    ns = kube.new_namespace(webhook=False)
    kube.create(ns, "refused", {**EXAMPLE_SPEC, **change})
    body = eventually(f"Stalled ({reason})", lambda: stalled(kube, ns, "refused"))
    assert body["status"]["phase"] == "Invalid"
    stall = condition(body, "Stalled")
    assert stall["reason"] == reason
    assert mentions in stall["message"]
    assert condition(body, "Ready")["status"] == "False"
    eventually("Warning Event", lambda: reason in warning_reasons(kube, ns, "refused"))
    assert not await schedule_exists(temporal_client, schedule_id(kube, ns, "refused"))


async def test_the_schedule_over_the_namespace_quota_is_refused_and_the_oldest_keep_their_place(
    operator: OperatorProcess, kube: Kube, temporal_client: Client
) -> None:
    ns = kube.new_namespace(webhook=False)
    for index in range(50):
        kube.create(ns, f"s{index:02d}", EXAMPLE_SPEC)
    eventually("50 Ready", lambda: all(ready(kube, ns, f"s{i:02d}") for i in range(50)), timeout=60,
               interval=1)
    kube.create(ns, "s50", EXAMPLE_SPEC)
    body = eventually("51st Stalled", lambda: stalled(kube, ns, "s50"))
    assert condition(body, "Stalled")["reason"] == "ScheduleLimitReached"
    assert "50" in condition(body, "Stalled")["message"]
    assert "ScheduleLimitReached" in warning_reasons(kube, ns, "s50")
    assert not await schedule_exists(temporal_client, schedule_id(kube, ns, "s50"))
    assert ready(kube, ns, "s00") and ready(kube, ns, "s49")


async def test_an_invalid_edit_leaves_the_running_temporal_schedule_as_it_was(
    operator: OperatorProcess, kube: Kube, temporal_client: Client
) -> None:
    ns = kube.new_namespace(webhook=False)
    sid = create_ready(kube, ns, "steady", EXAMPLE_SPEC)["status"]["temporal"]["scheduleId"]
    before = await describe(temporal_client, sid)

    kube.patch_spec(ns, "steady", {"schedule": "*/5 * * * *"})
    body = eventually("Stalled", lambda: stalled(kube, ns, "steady"))
    assert condition(body, "Stalled")["reason"] == "IntervalTooShort"

    after = await describe(temporal_client, sid)
    assert after.schedule.spec.calendars == before.schedule.spec.calendars
    assert not after.schedule.state.paused
