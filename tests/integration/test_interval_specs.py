"""Intervals and several specs against a real Temporal dev server: the SDK spec sent, what Temporal
shows back (fingerprint, list entry), and its next action times against the domain's own prediction."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import Client, ScheduleIntervalSpec, ScheduleUpdate, ScheduleUpdateInput

from sundial.adapters.temporal import TemporalGateway
from sundial.domain.cron import Interval, parse_cron, union_fire_times
from sundial.domain.desired import DesiredSchedule, Recorded, ScheduleIdentity, plan, spec_hash
from sundial.domain.rules import load_zone

EVERY_90_PAST_15 = Interval(timedelta(minutes=90), timedelta(minutes=15))


@pytest.fixture
async def cleanup(gateway: TemporalGateway) -> AsyncIterator[list[str]]:
    created: list[str] = []
    yield created
    for schedule_id in created:
        await gateway.delete(schedule_id)


def desired_for(ident: ScheduleIdentity, **changes: object) -> DesiredSchedule:
    base = DesiredSchedule(crons=(), workflow_type="ScheduledTaskWorkflow", task_queue="sundial-tasks",
                           workflow_id=ident.schedule_id, args=({"q": 1},), time_zone="Asia/Tokyo")
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


async def listed_fingerprint(gateway: TemporalGateway, schedule_id: str) -> str:
    """The list entry's fingerprint, once the (eventually consistent) list shows the schedule."""
    for _ in range(100):
        async for entry in gateway.list_schedules(query=f'ScheduleId = "{schedule_id}"'):
            if entry.schedule_id == schedule_id:
                return entry.listed_fingerprint
    raise AssertionError(f"{schedule_id} never listed")


async def test_an_interval_with_an_offset_is_sent_as_temporal_s_interval_spec(
        gateway: TemporalGateway, temporal_client: Client, cluster: str, cleanup: list[str]) -> None:
    ident = ScheduleIdentity(cluster, "team-a", "every-90", "uid-every-90")
    cleanup.append(ident.schedule_id)
    desired = desired_for(ident, intervals=(EVERY_90_PAST_15,))
    created = await gateway.create(ident, desired)

    spec = (await temporal_client.get_schedule_handle(ident.schedule_id).describe()).schedule.spec
    assert spec.intervals == [ScheduleIntervalSpec(every=timedelta(minutes=90), offset=timedelta(minutes=15))]
    assert (spec.cron_expressions, spec.calendars) == ([], [])
    assert created.next_action_times and all(
        (t.timestamp() - 900) % 5400 == 0 for t in created.next_action_times)  # epoch + n * 90m + 15m, any zone
    again = await gateway.describe(ident.schedule_id)
    assert again.fingerprint == created.fingerprint
    assert await listed_fingerprint(gateway, ident.schedule_id) == created.listed_fingerprint
    assert plan(ident, desired, again, Recorded(spec_hash(desired), created.fingerprint)).nothing


async def test_two_crons_are_two_calendars_firing_at_their_union(
        gateway: TemporalGateway, temporal_client: Client, cluster: str, cleanup: list[str]) -> None:
    ident = ScheduleIdentity(cluster, "team-a", "two-crons", "uid-two-crons")
    cleanup.append(ident.schedule_id)
    crons = ("0 9 * * 1-5", "0 12 * * 6,0")
    desired = desired_for(ident, crons=crons)
    created = await gateway.create(ident, desired)

    spec = (await temporal_client.get_schedule_handle(ident.schedule_id).describe()).schedule.spec
    assert len(spec.calendars) == 2 and spec.intervals == []
    assert [[(r.start, r.end) for r in c.hour] for c in spec.calendars] == [[(9, 9)], [(12, 12)]]
    start = datetime.now(UTC)
    predicted = list(union_fire_times([parse_cron(c) for c in crons], load_zone("Asia/Tokyo"), start,
                                      start + timedelta(days=14)))
    assert list(created.next_action_times) == predicted[:len(created.next_action_times)]
    assert (await gateway.describe(ident.schedule_id)).fingerprint == created.fingerprint
    assert await listed_fingerprint(gateway, ident.schedule_id) == created.listed_fingerprint


async def test_crons_and_an_interval_together_and_an_edit_in_temporal_is_seen(
        gateway: TemporalGateway, temporal_client: Client, cluster: str, cleanup: list[str]) -> None:
    ident = ScheduleIdentity(cluster, "team-a", "mixed", "uid-mixed")
    cleanup.append(ident.schedule_id)
    desired = desired_for(ident, crons=("0 9 * * *",), intervals=(EVERY_90_PAST_15,))
    created = await gateway.create(ident, desired)
    one_cron = await gateway.update(ident.schedule_id, dataclasses.replace(desired, intervals=()))
    assert one_cron.fingerprint != created.fingerprint
    back = await gateway.update(ident.schedule_id, desired)
    assert back.fingerprint == created.fingerprint

    def other_offset(update_input: ScheduleUpdateInput) -> ScheduleUpdate:  # someone edits it in Temporal
        schedule = update_input.description.schedule
        schedule.spec.intervals = [ScheduleIntervalSpec(every=timedelta(minutes=90), offset=timedelta(minutes=20))]
        return ScheduleUpdate(schedule=schedule)

    await temporal_client.get_schedule_handle(ident.schedule_id).update(other_offset)
    edited = await gateway.describe(ident.schedule_id)
    assert plan(ident, desired, edited, Recorded(spec_hash(desired), created.fingerprint)).reasons == (
        "edited in Temporal outside Sundial",)
