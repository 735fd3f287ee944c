"""The calls a new schedule and an operator restart cost (issue 13, items 1 and 2).

The real reconcile, resume decision and OperatorContext over the in-memory Temporal and
Kubernetes of ``tests/support`` (each implements the port of the real gateway).
"""

from __future__ import annotations

import asyncio
import copy
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.support.memory_kube import MemoryKube
from tests.support.memory_temporal import MemoryTemporal

from sundial.controller.annotation_requests import request_pending
from sundial.controller.context import OperatorContext
from sundial.controller.metrics import METRICS
from sundial.controller.reconcile import reconcile
from sundial.controller.resume import resume
from sundial.domain.desired import DesiredSchedule
from sundial.domain.validation import Peers
from sundial.domain.written import WrittenSchedule, next_run_after_write
from sundial.settings import Settings

NOW = datetime(2026, 11, 22, 12, 0, 30, tzinfo=UTC)
SPEC = {"schedule": "0 9 * * *", "timeZone": "Asia/Tokyo", "task": {"query": "summarise"}}


def world() -> tuple[OperatorContext, MemoryKube, MemoryTemporal]:
    kube, temporal = MemoryKube(), MemoryTemporal()
    ctx = OperatorContext(settings=Settings(), temporal=temporal, kube=kube, cluster_id="c1",
                          logger=logging.getLogger("test"), clock=lambda: NOW)
    return ctx, kube, temporal


def run_reconcile(ctx: OperatorContext, body: dict[str, Any]) -> None:
    async def scenario() -> None:
        await reconcile(ctx, body, Peers())

    asyncio.run(scenario())


def calls(temporal: MemoryTemporal) -> dict[str, int]:
    return {op: sum(by.values()) for op, by in temporal.calls.items() if sum(by.values())}


def test_a_new_schedule_costs_one_temporal_call_and_records_what_a_describe_shows() -> None:
    ctx, kube, temporal = world()
    body = kube.add("team-a", "digest", dict(SPEC))

    run_reconcile(ctx, body)

    assert calls(temporal) == {"create": 1}  # no describe before (nothing recorded) nor after
    status = kube.status("digest")
    schedule_id = status["temporal"]["scheduleId"]
    described = asyncio.run(temporal.describe(schedule_id))
    assert status["temporal"]["fingerprint"] == described.fingerprint
    assert (status["phase"], status["nextRunTime"]) == ("Active", "2026-11-23T00:00:00Z")  # 09:00 in Tokyo
    assert [e[2] for e in kube.events] == ["Created"]


def test_a_new_resource_whose_id_is_taken_describes_and_adopts_its_own_schedule() -> None:
    ctx, kube, temporal = world()
    body = kube.add("team-a", "digest", dict(SPEC))
    temporal.put(ctx.identity(body))  # created before a crash, status never written

    run_reconcile(ctx, body)

    assert calls(temporal) == {"create": 1, "describe": 1, "update": 1}
    assert kube.status("digest")["phase"] == "Active"
    assert [e[2] for e in kube.events] == ["Adopted"]


def test_the_next_run_is_left_to_the_sweep_when_the_walk_cannot_know_it() -> None:
    desired = DesiredSchedule(crons=("0 9 * * *",), workflow_type="W", task_queue="q", workflow_id="x")
    sent = WrittenSchedule("x", "a.b")
    assert next_run_after_write(desired, sent, NOW) == datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert next_run_after_write(DesiredSchedule(**{**desired.__dict__, "jitter": timedelta(minutes=1)}),
                                sent, NOW) is None  # Temporal adds a random delay
    assert next_run_after_write(desired, WrittenSchedule("x", "a.b", limited=True, remaining_actions=0), NOW) is None
    window = DesiredSchedule(**{**desired.__dict__, "start_at": NOW + timedelta(days=3),
                                "end_at": NOW + timedelta(days=3, hours=21)})  # 25th 12:00:30 to 26th 09:00:30
    assert next_run_after_write(window, sent, NOW) == datetime(2026, 11, 26, 9, tzinfo=UTC)
    closed = DesiredSchedule(**{**window.__dict__, "end_at": NOW + timedelta(days=3, hours=20)})
    assert next_run_after_write(closed, sent, NOW) is None  # no time left in the window


def resumed(ctx: OperatorContext, body: dict[str, Any]) -> str:
    before = {r: METRICS.resumes.metric.labels(result=r)._value.get() for r in ("current", "reconciled")}
    asyncio.run(resume(ctx, body, Peers()))
    after = {r: METRICS.resumes.metric.labels(result=r)._value.get() for r in ("current", "reconciled")}
    (result,) = [r for r in after if after[r] != before[r]]
    return result


@pytest.fixture
def synced() -> tuple[OperatorContext, MemoryKube, MemoryTemporal, dict[str, Any]]:
    ctx, kube, temporal = world()
    body = kube.add("team-a", "digest", dict(SPEC))
    run_reconcile(ctx, body)
    temporal.calls.clear()
    kube.writes.clear()
    return ctx, kube, temporal, asyncio.run(kube.get_schedule("team-a", "digest"))


def test_resume_of_a_current_resource_costs_no_call(
        synced: tuple[OperatorContext, MemoryKube, MemoryTemporal, dict[str, Any]]) -> None:
    ctx, kube, temporal, body = synced
    assert resumed(ctx, body) == "current"
    assert calls(temporal) == {} and kube.writes == {}


@pytest.mark.parametrize("change", ["spec edited while down", "stranded in Error", "stranded Reconciling",
                                    "operator defaults changed", "pause in flight", "moved namespace"])
def test_resume_reconciles_what_is_not_current(
        synced: tuple[OperatorContext, MemoryKube, MemoryTemporal, dict[str, Any]], change: str) -> None:
    ctx, kube, temporal, body = synced
    body = copy.deepcopy(body)
    status = body["status"]
    if change == "spec edited while down":
        body["spec"]["schedule"], body["metadata"]["generation"] = "0 10 * * *", 2
    elif change == "stranded in Error":
        status["phase"] = "Error"
    elif change == "stranded Reconciling":
        body["metadata"]["generation"] = 2  # a spec write whose reconcile never finished
    elif change == "operator defaults changed":
        ctx = OperatorContext(settings=Settings(default_task_queue="elsewhere", allowed_task_queues=("*",)),
                              temporal=temporal, kube=kube, cluster_id="c1", logger=logging.getLogger("test"),
                              clock=lambda: NOW)
    elif change == "pause in flight":
        status["accounting"] = {"autoPause": {"reason": "ConsecutiveFailures", "message": "3 failed"}}
    else:
        status["temporal"]["namespace"] = "old"
    assert resumed(ctx, body) == "reconciled"
    assert temporal.calls["describe"]["ok"] + temporal.calls["create"]["ok"] >= 1  # went to Temporal


def test_the_request_handler_runs_only_for_an_unacknowledged_request() -> None:
    body: dict[str, Any] = {"metadata": {"annotations": {}}, "status": {}}
    assert not request_pending(body)
    body["metadata"]["annotations"]["sundial.dev/trigger-requested"] = "2026-11-22T12:00:00Z"
    assert request_pending(body)
    body["status"]["requests"] = {"trigger": "2026-11-22T12:00:00Z"}
    assert not request_pending(body)
    body["metadata"]["annotations"]["sundial.dev/backfill-requested"] = '{"from": "x"}'
    assert request_pending(body)


def test_a_new_resources_synced_status_goes_into_kopfs_patch_and_later_ones_are_written() -> None:
    ctx, kube, _ = world()
    body = kube.add("team-a", "digest", dict(SPEC))
    sink: dict[str, Any] = {}

    async def scenario(given: dict[str, Any], out: dict[str, Any]) -> None:
        await reconcile(ctx, given, Peers(), status_sink=out)

    asyncio.run(scenario(body, sink))
    assert kube.writes == {"status": 1, "event": 1}  # Pending (before Temporal is touched), Created
    assert kube.status("digest")["phase"] == "Pending"
    assert sink["phase"] == "Active" and sink["temporal"]["fingerprint"]  # kopf sends it with its diff-base

    synced = asyncio.run(kube.get_schedule("team-a", "digest"))
    synced["status"] = {**synced["status"], **sink}
    synced["spec"]["schedule"], synced["metadata"]["generation"] = "0 10 * * *", 2
    later: dict[str, Any] = {}
    asyncio.run(scenario(synced, later))
    assert later == {}  # a synced resource's status goes the conflict-safe way (write_status)
    assert kube.status("digest")["observedGeneration"] == 2
