"""Intervals and several specs against a real Temporal dev server: the SDK spec sent, what Temporal
shows back (fingerprint, list entry), and its next action times against the domain's own prediction."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from temporalio.client import Client, ScheduleIntervalSpec, ScheduleUpdate, ScheduleUpdateInput
from tests.integration.test_cron_differential import _matching_times

from sundial.adapters.temporal import TemporalGateway
from sundial.adapters.temporal_mapping import build_schedule
from sundial.domain.cron import Interval, When, parse_cron, union_fire_times, union_gap
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
    again = await gateway.describe(ident.schedule_id)
    assert again.next_action_times and all(
        (t.timestamp() - 900) % 5400 == 0 for t in again.next_action_times)  # epoch + n * 90m + 15m, any zone
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
    described = await gateway.describe(ident.schedule_id)
    assert described.next_action_times
    assert list(described.next_action_times) == predicted[:len(described.next_action_times)]
    assert described.fingerprint == created.fingerprint
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


UNIONS = [
    (("0 9 * * 1-5", "0 12 * * 6,0"), (), "Europe/Paris"),
    (("30 1 * * *", "0 3 * * *"), (), "America/New_York"),  # 30 min apart on the spring-forward night
    (("0 */2 * * *",), (Interval(timedelta(hours=2), timedelta(hours=1)),), "Europe/Berlin"),
    (("15 2 * * *", "0 23 * * 6"), (Interval(timedelta(minutes=100), timedelta(minutes=7)),), "America/Santiago"),
    ((), (Interval(timedelta(minutes=90)), Interval(timedelta(hours=2), timedelta(minutes=30))), "Asia/Tokyo"),
]


@pytest.mark.parametrize(("crons", "intervals", "zone"), UNIONS)
async def test_the_union_s_runs_and_smallest_gap_agree_with_temporal(
        temporal_client: Client, cluster: str, crons: tuple[str, ...], intervals: tuple[Interval, ...],
        zone: str) -> None:
    """What Sundial sends, read back with the server's ListScheduleMatchingTimes over 13 months (every
    offset change): run for run what ``union_fire_times`` says, and no gap smaller than ``union_gap``'s."""
    ident = ScheduleIdentity(cluster, "team-a", "union", "uid-union")
    desired = DesiredSchedule(crons=crons, intervals=intervals, time_zone=zone, workflow_type="NeverRuns",
                              task_queue="never", workflow_id=ident.schedule_id, paused=True)
    await temporal_client.create_schedule(ident.schedule_id, build_schedule(desired))
    start, end = datetime(2026, 12, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC)
    try:
        theirs = await _matching_times(temporal_client, ident.schedule_id, start, end)
    finally:
        await temporal_client.get_schedule_handle(ident.schedule_id).delete()
    whens: list[When] = [*map(parse_cron, crons), *intervals]
    ours = list(union_fire_times(whens, load_zone(zone), start + timedelta(seconds=1), end + timedelta(seconds=1)))
    assert theirs == ours
    smallest = union_gap(whens, load_zone(zone), start).gap
    assert smallest is not None and smallest <= min(b - a for a, b in pairwise(theirs))
