"""The operator's side of backfill and adoption, over the in-memory Kubernetes and Temporal fakes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import kopf
import pytest
from tests.support.memory_kube import MemoryKube
from tests.support.memory_temporal import NEXT, MemoryTemporal

from sundial.controller.adoption import AdoptionRefused, take_over
from sundial.controller.backfill import handle_backfill_request
from sundial.controller.context import OperatorContext
from sundial.domain.desired import DesiredSchedule, ScheduleIdentity
from sundial.settings import Settings

CLUSTER = "cluster-a"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
T0 = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
SPEC = {"schedule": "0 * * * *", "task": {"query": "q"}}
DESIRED = DesiredSchedule(crons=("0 * * * *",), workflow_type="W", task_queue="q", workflow_id="legacy")


def context(now: datetime = NOW) -> tuple[OperatorContext, MemoryKube, MemoryTemporal]:
    kube, temporal = MemoryKube(), MemoryTemporal()
    ctx = OperatorContext(settings=Settings(), temporal=temporal, kube=kube, cluster_id=CLUSTER,
                          logger=logging.getLogger("test-backfill"), clock=lambda: now)
    return ctx, kube, temporal


def synced(kube: MemoryKube, temporal: MemoryTemporal, ctx: OperatorContext, value: str) -> dict[str, Any]:
    body = kube.add("team-a", "hourly", SPEC, annotations={"sundial.dev/backfill-requested": value})
    identity = ctx.identity(body)
    temporal.put(identity)
    kube.bodies["team-a", "hourly"]["status"] = {"phase": "Active", "temporal": {"scheduleId": identity.schedule_id}}
    return kube.bodies["team-a", "hourly"]


async def test_a_backfill_is_sent_with_an_inclusive_end_acknowledged_and_acted_on_once() -> None:
    ctx, kube, temporal = context()
    value = '{"from": "2026-11-22T00:00:00Z", "to": "2026-11-22T03:00:00Z"}'
    body = synced(kube, temporal, ctx, value)
    await handle_backfill_request(ctx, body)
    sid = body["status"]["temporal"]["scheduleId"]
    assert temporal.backfilled == [(sid, T0, T0 + timedelta(hours=3) - timedelta(milliseconds=1), "AllowAll")]
    assert kube.status("hourly")["requests"] == {"backfill": value, "backfillResult": "started 3 runs"}
    assert [e[2] for e in kube.events] == ["Backfilled"]
    await handle_backfill_request(ctx, kube.bodies["team-a", "hourly"])  # acknowledged: nothing more
    assert len(temporal.backfilled) == 1 and len(kube.events) == 1


async def test_a_refused_backfill_starts_nothing_and_says_why() -> None:
    ctx, kube, temporal = context()
    value = '{"from": "2026-11-22T00:00:00Z", "to": "2026-11-22T03:00:00Z", "maxRuns": 2}'
    await handle_backfill_request(ctx, synced(kube, temporal, ctx, value))
    assert temporal.backfilled == []
    assert kube.status("hourly")["requests"]["backfillResult"].startswith("refused: the range")
    assert kube.events[0][1:3] == ("Warning", "BackfillRefused")


async def test_temporal_away_is_a_failed_backfill_acknowledged_with_the_error() -> None:
    ctx, kube, temporal = context()
    body = synced(kube, temporal, ctx, '{"from": "2026-11-22T00:00:00Z", "to": "2026-11-22T01:00:00Z"}')
    temporal.down = True
    await handle_backfill_request(ctx, body)
    assert kube.status("hourly")["requests"]["backfillResult"] == "failed: backfill: connection refused"
    assert kube.events[0][2] == "BackfillFailed"


def adopting(kube: MemoryKube, ctx: OperatorContext) -> tuple[dict[str, Any], ScheduleIdentity]:
    body = kube.add("team-a", "legacy", SPEC, annotations={"sundial.dev/adopt": "legacy"})
    identity = ctx.identity(body)
    assert identity.schedule_id == "legacy"
    return body, identity


async def test_adoption_recreates_under_the_same_id_with_the_memo_after_recording_the_id() -> None:
    ctx, kube, temporal = context()
    body, identity = adopting(kube, ctx)
    temporal.put(ScheduleIdentity(CLUSTER, "x", "y", "z"), schedule_id="legacy", memo={"team": "data"})
    adopted = await take_over(ctx, body, identity, DESIRED, await temporal.describe("legacy"))
    assert adopted is not None and adopted.schedule_id == "legacy"
    now_there = await temporal.describe("legacy")  # create no longer reads the schedule back
    assert now_there.identity == identity
    assert list(temporal.schedules) == ["legacy"]  # one schedule, same ID
    assert kube.patches[0][2] == {"temporal": {"scheduleId": "legacy"}}  # recorded before the delete
    assert temporal.calls["delete"]["ok"] == 1 and kube.events[0][2] == "Adopted"
    assert await take_over(ctx, body, identity, DESIRED, now_there) is None  # ours now: the ordinary plan


async def test_adoption_waits_for_a_gap_between_fire_times() -> None:
    ctx, kube, temporal = context(now=NEXT - timedelta(seconds=5))
    body, identity = adopting(kube, ctx)
    temporal.put(identity, memo={})
    with pytest.raises(kopf.TemporaryError, match="waiting 20s for a gap between fire times"):
        await take_over(ctx, body, identity, DESIRED, await temporal.describe("legacy"))
    assert "delete" not in temporal.calls and kube.patches == []


async def test_adoption_refuses_an_owned_or_missing_schedule_and_finishes_a_half_done_one() -> None:
    ctx, kube, temporal = context()
    body, identity = adopting(kube, ctx)
    temporal.put(identity, memo={"owner": "payments"})
    with pytest.raises(AdoptionRefused, match=r"another owner \(owner=payments\)"):
        await take_over(ctx, body, identity, DESIRED, await temporal.describe("legacy"))
    del temporal.schedules["legacy"]
    with pytest.raises(AdoptionRefused, match="Temporal schedule legacy not found"):
        await take_over(ctx, body, identity, DESIRED, None)
    # deleted, then the operator stopped before creating it again: the recorded ID lets it finish
    recorded = {**body, "status": {"temporal": {"scheduleId": "legacy"}}}
    created = await take_over(ctx, recorded, ctx.identity(recorded), DESIRED, None)
    assert created is not None and (await temporal.describe(created.schedule_id)).identity == identity
