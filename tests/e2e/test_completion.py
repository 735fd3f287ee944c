"""A schedule that can never fire again is Completed, and Sundial does not bring it back.

Temporal removes an ended schedule in its own time; here it is deleted out of band, as Temporal
would, and three sweeps later nothing was re-created, nothing is an orphan, no DriftRepaired.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import Client, ScheduleUpdate, ScheduleUpdateInput
from tests.e2e.helpers import Kube, condition, ready
from tests.e2e.test_drift_repair import RESYNC, exists, temporal_cli
from tests.e2e.test_schedule_lifecycle import EXAMPLE_SPEC, describe, kubectl
from tests.support.waiting import eventually

from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.operator_process import OperatorProcess
from sundial.devstack.temporal_dev import TemporalDevServer

COMPLETED_WITHIN = RESYNC + 30.0  # a sweep, the describe and the reconcile, on 2 busy cores


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def phase_is(kube: Kube, namespace: str, name: str, phase: str) -> dict[str, Any] | None:
    body = kube.get(namespace, name)
    return body if (body.get("status") or {}).get("phase") == phase else None


async def test_a_schedule_past_its_end_is_completed_and_not_recreated_until_its_end_moves(
    operator: OperatorProcess, kube: Kube, temporal_server: TemporalDevServer, temporal_client: Client,
    control_plane: LocalControlPlane,
) -> None:
    ns = kube.new_namespace()
    end = datetime.now(UTC) + timedelta(seconds=15)
    kube.create(ns, "window", {**EXAMPLE_SPEC, "endAt": stamp(end)})
    body = eventually("Ready", lambda: ready(kube, ns, "window"), timeout=30)
    sid = body["status"]["temporal"]["scheduleId"]
    assert body["status"]["phase"] == "Active"
    body = eventually("Completed", lambda: phase_is(kube, ns, "window", "Completed"),
                      timeout=(end - datetime.now(UTC)).total_seconds() + COMPLETED_WITHIN)
    assert condition(body, "Ready")["status"] == "True"
    assert condition(body, "Ready")["reason"] == "Completed"
    assert "Completed" in kubectl(control_plane, "get", "sched", "-n", ns).split()
    assert "Completed" in kube.event_reasons(ns, "window")

    temporal_cli(temporal_server, "schedule", "delete", "--schedule-id", sid)  # as Temporal would
    operator.wait_for_sweeps(3)
    assert not await exists(temporal_client, sid)
    assert phase_is(kube, ns, "window", "Completed")
    assert "DriftRepaired" not in kube.event_reasons(ns, "window")

    kube.patch_spec(ns, "window", {"endAt": stamp(datetime.now(UTC) + timedelta(days=30))})
    body = eventually("Active again", lambda: ready(kube, ns, "window", generation=2), timeout=30)
    assert body["status"]["phase"] == "Active"
    assert body["status"]["nextRunTime"]
    assert await exists(temporal_client, sid)


async def test_max_runs_limits_temporal_actions_and_ends_in_completed(
    operator: OperatorProcess, kube: Kube, temporal_client: Client,
) -> None:
    ns = kube.new_namespace()
    kube.create(ns, "limited", {**EXAMPLE_SPEC, "maxRuns": 2})
    body = eventually("Ready", lambda: ready(kube, ns, "limited"), timeout=30)
    sid = body["status"]["temporal"]["scheduleId"]
    assert body["status"]["remainingRuns"] == 2
    state = (await describe(temporal_client, sid)).schedule.state
    assert (state.limited_actions, state.remaining_actions) == (True, 2)

    def used_up(current: ScheduleUpdateInput) -> ScheduleUpdate:  # as if both runs had happened
        schedule = current.description.schedule
        schedule.state.remaining_actions = 0
        return ScheduleUpdate(schedule=schedule)

    await temporal_client.get_schedule_handle(sid).update(used_up)
    body = eventually("Completed", lambda: phase_is(kube, ns, "limited", "Completed"), timeout=COMPLETED_WITHIN)
    assert body["status"]["remainingRuns"] == 0
    assert "maxRuns" in condition(body, "Ready")["message"]

    kube.patch_spec(ns, "limited", {"maxRuns": 3})  # one more run
    body = eventually("Active again", lambda: ready(kube, ns, "limited", generation=2), timeout=30)
    assert body["status"]["phase"] == "Active"
    assert body["status"]["remainingRuns"] == 1
    state = (await describe(temporal_client, sid)).schedule.state
    assert (state.limited_actions, state.remaining_actions) == (True, 1)
