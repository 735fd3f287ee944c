"""The Temporal gateway against a real Temporal dev server (the session's)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from tests.support.waiting import eventually_async

from sundial.adapters.temporal import TemporalGateway
from sundial.devstack.temporal_dev import TemporalDevServer
from sundial.domain.desired import (
    DesiredSchedule,
    Recorded,
    ScheduleIdentity,
    cluster_prefix,
    plan,
    spec_hash,
    task_input,
)
from sundial.errors import ScheduleAlreadyExists, ScheduleNotFound, TemporalRejected, TemporalUnavailable


@pytest.fixture
async def cleanup(gateway: TemporalGateway) -> AsyncIterator[list[str]]:
    created: list[str] = []
    yield created
    for schedule_id in created:
        await gateway.delete(schedule_id)


def identity_of(cluster: str, name: str = "daily-ai-news") -> ScheduleIdentity:
    return ScheduleIdentity(cluster_id=cluster, namespace="team-a", name=name, uid=f"uid-{name}")


def desired_for(ident: ScheduleIdentity, **changes: object) -> DesiredSchedule:
    arg = task_input(ident.schedule_id, "Generate a daily news digest", {"output_format": "markdown"}, 2.0,
                     "alice", ident.namespace)
    base = DesiredSchedule(crons=("0 9 * * *",), time_zone="Asia/Tokyo", workflow_type="ScheduledTaskWorkflow",
                           task_queue="sundial-tasks", workflow_id=ident.schedule_id, args=(arg,))
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


async def test_create_then_describe_shows_what_we_wrote(gateway: TemporalGateway, temporal_client: Client,
                                                       cluster: str, cleanup: list[str]) -> None:
    ident = identity_of(cluster)
    desired = desired_for(ident)
    cleanup.append(ident.schedule_id)

    written = await gateway.create(ident, desired)
    seen = await gateway.describe(ident.schedule_id)  # create no longer reads the schedule back

    assert written.fingerprint == seen.fingerprint
    assert (seen.workflow_type, seen.task_queue, seen.time_zone) == ("ScheduledTaskWorkflow", "sundial-tasks",
                                                                     "Asia/Tokyo")
    assert seen.run_timeout == timedelta(seconds=600)
    assert seen.args == desired.args
    assert seen.args[0]["task_context"]["max_budget_usd"] == 2.0
    assert seen.memo == ident.memo() and seen.identity == ident
    assert (seen.paused, seen.action_count) == (False, 0)
    assert seen.next_action_times and all((t.hour, t.minute) == (0, 0) for t in seen.next_action_times)
    described = await temporal_client.get_schedule_handle(ident.schedule_id).describe()
    (calendar,) = described.schedule.spec.calendars
    assert [(r.start, r.end) for r in calendar.hour] == [(9, 9)]
    assert [(r.start, r.end) for r in calendar.minute] == [(0, 0)]
    assert described.schedule.spec.cron_expressions == []  # the server compiled the cron away
    assert gateway.calls["create"] == {"ok": 1, "error": 0}


async def test_creating_an_existing_id_raises_already_exists(gateway: TemporalGateway, cluster: str,
                                                             cleanup: list[str]) -> None:
    ident = identity_of(cluster)
    cleanup.append(ident.schedule_id)
    await gateway.create(ident, desired_for(ident))
    with pytest.raises(ScheduleAlreadyExists):
        await gateway.create(ident, desired_for(ident, crons=("@hourly",)))
    assert gateway.calls["create"] == {"ok": 1, "error": 1}


@pytest.mark.parametrize(("change", "message"), [({"crons": ("0 25 * * *",)}, "Hour is not in range"),
                                                 ({"time_zone": "Asia/Tokio"}, "unknown time zone")])
async def test_an_invalid_spec_is_rejected_with_the_servers_message(
        gateway: TemporalGateway, cluster: str, change: dict[str, str], message: str) -> None:
    ident = identity_of(cluster)
    with pytest.raises(TemporalRejected, match=message):
        await gateway.create(ident, desired_for(ident, **change))


async def test_update_changes_the_calendar_and_the_fingerprint(
        gateway: TemporalGateway, temporal_client: Client, cluster: str, cleanup: list[str]) -> None:
    ident = identity_of(cluster)
    cleanup.append(ident.schedule_id)
    created = await gateway.create(ident, desired_for(ident))

    updated = await gateway.update(ident.schedule_id, desired_for(ident, crons=("30 18 * * 1-5",)))

    assert updated.fingerprint != created.fingerprint
    described = await temporal_client.get_schedule_handle(ident.schedule_id).describe()
    (calendar,) = described.schedule.spec.calendars  # replaced, not appended
    assert [(r.start, r.end) for r in calendar.hour] == [(18, 18)]
    assert [(r.start, r.end) for r in calendar.day_of_week] == [(1, 5)]


async def test_an_identical_write_shows_the_same_fingerprint(gateway: TemporalGateway, cluster: str,
                                                             cleanup: list[str]) -> None:
    ident = identity_of(cluster)
    cleanup.append(ident.schedule_id)
    created = await gateway.create(ident, desired_for(ident))
    again = await gateway.update(ident.schedule_id, desired_for(ident))
    paused = await gateway.update(ident.schedule_id, desired_for(ident, paused=True, note="maintenance"))
    assert created.fingerprint == again.fingerprint == paused.fingerprint
    described = await gateway.describe(ident.schedule_id)
    assert described.fingerprint == paused.fingerprint
    assert (described.paused, described.note) == (True, "maintenance")


async def test_pause_and_unpause_carry_the_note(gateway: TemporalGateway, cluster: str,
                                                cleanup: list[str]) -> None:
    ident = identity_of(cluster)
    cleanup.append(ident.schedule_id)
    await gateway.create(ident, desired_for(ident))

    await gateway.pause(ident.schedule_id, "ConsecutiveFailures: 3 failed runs in a row")
    paused = await gateway.describe(ident.schedule_id)
    await gateway.unpause(ident.schedule_id, "resumed by alice")
    resumed = await gateway.describe(ident.schedule_id)

    assert (paused.paused, paused.note) == (True, "ConsecutiveFailures: 3 failed runs in a row")
    assert (resumed.paused, resumed.note) == (False, "resumed by alice")


async def test_trigger_starts_a_run_now(gateway: TemporalGateway, temporal_client: Client, cluster: str,
                                        cleanup: list[str]) -> None:
    ident = identity_of(cluster)
    cleanup.append(ident.schedule_id)
    await gateway.create(ident, desired_for(ident))

    await gateway.trigger(ident.schedule_id)

    async def started() -> bool:
        return bool((await gateway.describe(ident.schedule_id)).recent_actions)

    await eventually_async("the triggered run", started, timeout=15, interval=0.1)
    (run,) = (await gateway.describe(ident.schedule_id)).recent_actions
    assert run.workflow_id.startswith(f"{ident.schedule_id}-")
    handle = temporal_client.get_workflow_handle(run.workflow_id, run_id=run.run_id)
    info = await handle.describe()
    assert (info.workflow_type, info.task_queue) == ("ScheduledTaskWorkflow", "sundial-tasks")
    await handle.terminate("test done")  # no worker here; do not leave it running for 10 minutes


async def test_delete_is_idempotent(gateway: TemporalGateway, cluster: str) -> None:
    ident = identity_of(cluster)
    await gateway.create(ident, desired_for(ident))
    assert await gateway.delete(ident.schedule_id) is True
    assert await gateway.delete(ident.schedule_id) is False
    assert gateway.calls["delete"] == {"ok": 2, "error": 0}  # nothing left to delete is a success
    with pytest.raises(ScheduleNotFound):
        await gateway.describe(ident.schedule_id)


@pytest.mark.parametrize("operation", ["describe", "update", "pause", "unpause", "trigger"])
async def test_a_missing_schedule_raises_not_found(gateway: TemporalGateway, cluster: str,
                                                   operation: str) -> None:
    ident = identity_of(cluster)
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "describe": lambda: gateway.describe(ident.schedule_id),
        "update": lambda: gateway.update(ident.schedule_id, desired_for(ident)),
        "pause": lambda: gateway.pause(ident.schedule_id, "x"),
        "unpause": lambda: gateway.unpause(ident.schedule_id, "x"),
        "trigger": lambda: gateway.trigger(ident.schedule_id),
    }
    with pytest.raises(ScheduleNotFound, match=ident.schedule_id):
        await calls[operation]()


async def test_list_pages_through_every_schedule_with_its_memo(gateway: TemporalGateway, cluster: str,
                                                               cleanup: list[str]) -> None:
    idents = [identity_of(cluster, f"job-{i}") for i in range(5)]
    cleanup.extend(ident.schedule_id for ident in idents)
    for ident in idents:
        await gateway.create(ident, desired_for(ident))
    query = f"ScheduleId STARTS_WITH '{cluster_prefix(cluster)}'"

    async def all_listed() -> bool:
        return len([entry async for entry in gateway.list_schedules(page_size=2, query=query)]) == 5

    await eventually_async("5 schedules in the (eventually consistent) list", all_listed, timeout=15, interval=0.1)
    pages_before = gateway.list_pages
    listed = {entry.schedule_id: entry async for entry in gateway.list_schedules(page_size=2, query=query)}

    assert {ident.schedule_id: ident for ident in idents} == {sid: e.identity for sid, e in listed.items()}
    assert all(e.workflow_type == "ScheduledTaskWorkflow" and e.next_action_times for e in listed.values())
    assert gateway.list_pages - pages_before in (3, 4)  # ceil(5 / 2), plus an empty last page at most


async def test_an_out_of_band_edit_changes_both_fingerprints(
        gateway: TemporalGateway, temporal_client: Client, cluster: str, cleanup: list[str]) -> None:
    ident = identity_of(cluster)
    cleanup.append(ident.schedule_id)
    desired = desired_for(ident)
    written = await gateway.create(ident, desired)
    recorded = Recorded(spec_hash=spec_hash(desired), fingerprint=written.fingerprint)
    query = f"ScheduleId = '{ident.schedule_id}'"

    async def listed_fingerprint_is(expected: str) -> bool:
        entries = [entry async for entry in gateway.list_schedules(query=query)]
        return len(entries) == 1 and entries[0].listed_fingerprint == expected

    await eventually_async("the list to show what describe showed", lambda: listed_fingerprint_is(
        written.listed_fingerprint), timeout=15, interval=0.1)
    assert plan(ident, desired, await gateway.describe(ident.schedule_id), recorded).nothing

    def by_hand(given: ScheduleUpdateInput) -> ScheduleUpdate:
        schedule = given.description.schedule
        spec = ScheduleSpec(cron_expressions=["0 7 * * *"])  # fresh: a described spec would keep 09:00 too
        return ScheduleUpdate(schedule=Schedule(action=schedule.action, spec=spec, policy=schedule.policy,
                                                state=schedule.state))

    await temporal_client.get_schedule_handle(ident.schedule_id).update(by_hand)

    edited = await gateway.describe(ident.schedule_id)
    assert edited.listed_fingerprint != written.listed_fingerprint
    assert plan(ident, desired, edited, recorded).update
    await eventually_async("the list to show the edit", lambda: listed_fingerprint_is(edited.listed_fingerprint),
                           timeout=15, interval=0.1)
    (entry,) = [entry async for entry in gateway.list_schedules(query=query)]
    assert plan(ident, desired, entry, recorded).update


async def test_an_action_edit_out_of_band_changes_the_described_fingerprint(
        gateway: TemporalGateway, temporal_client: Client, cluster: str, cleanup: list[str]) -> None:
    ident = identity_of(cluster)
    cleanup.append(ident.schedule_id)
    written = await gateway.create(ident, desired_for(ident))

    def other_queue(given: ScheduleUpdateInput) -> ScheduleUpdate:
        schedule = given.description.schedule
        action = ScheduleActionStartWorkflow("ScheduledTaskWorkflow", id=ident.schedule_id,
                                             task_queue="elsewhere")
        spec = ScheduleSpec(cron_expressions=["0 9 * * *"], time_zone_name="Asia/Tokyo")
        return ScheduleUpdate(schedule=Schedule(action=action, spec=spec, policy=schedule.policy,
                                                state=schedule.state))

    await temporal_client.get_schedule_handle(ident.schedule_id).update(other_queue)

    edited = await gateway.describe(ident.schedule_id)
    assert edited.listed_fingerprint == written.listed_fingerprint  # same spec and type: a list cannot tell
    assert edited.fingerprint != written.fingerprint


async def test_temporal_down_raises_unavailable_and_recovers(
        temporal_server: TemporalDevServer, temporal_client: Client, cluster: str, cleanup: list[str],
) -> None:
    gateway = await TemporalGateway.connect(temporal_server.address, temporal_server.namespace,
                                            max_retry_seconds=1.0)
    session_gateway = TemporalGateway(temporal_client)  # the one every other test shares
    ident = identity_of(cluster)
    cleanup.append(ident.schedule_id)
    await gateway.create(ident, desired_for(ident))
    await asyncio.to_thread(temporal_server.stop)
    try:
        with pytest.raises(TemporalUnavailable):
            await gateway.describe(ident.schedule_id)
        with pytest.raises(TemporalUnavailable):
            [entry async for entry in gateway.list_schedules()]
        with pytest.raises(TemporalUnavailable):
            await TemporalGateway.connect(temporal_server.address, temporal_server.namespace)
        assert gateway.calls["describe"]["error"] == 1 and gateway.calls["list"]["error"] == 1
    finally:
        await asyncio.to_thread(temporal_server.start)

    async def answers() -> bool:
        try:
            seen = [await one.describe(ident.schedule_id) for one in (gateway, session_gateway)]
        except TemporalUnavailable:
            return False
        return all(observed.identity == ident for observed in seen)

    await eventually_async("the same clients to work again after the restart", answers, timeout=30, interval=0.1)


async def test_one_call_slot_serves_concurrent_calls_and_calls_made_while_listing(
        temporal_client: Client, cluster: str, cleanup: list[str]) -> None:
    gateway = TemporalGateway(temporal_client, max_concurrency=1)
    idents = [identity_of(cluster, f"job-{i}") for i in range(3)]
    cleanup.extend(ident.schedule_id for ident in idents)
    await asyncio.gather(*(gateway.create(ident, desired_for(ident)) for ident in idents))
    query = f"ScheduleId STARTS_WITH '{cluster_prefix(cluster)}'"

    async def described_while_listing() -> bool:
        seen = [(await gateway.describe(entry.schedule_id)).identity
                async for entry in gateway.list_schedules(page_size=1, query=query)]
        return sorted(seen, key=str) == sorted(idents, key=str)

    await eventually_async("every schedule listed and described", described_while_listing, timeout=15, interval=0.1)
