"""Drift and orphans against the real stack: the operator puts Temporal back, and touches only its own.

Out-of-band changes are made the way people make them, with the ``temporal`` CLI. Every
repair must land within one resync period (SUNDIAL_RESYNC_SECONDS=5 in e2e) plus a margin,
with one clear Event.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleSpec,
)
from temporalio.service import RPCError
from tests.e2e.helpers import RESYNC_SECONDS, Kube, Replacements, create_ready
from tests.e2e.test_schedule_lifecycle import EXAMPLE_SPEC, cluster_id, describe
from tests.support.waiting import eventually, eventually_async

from sundial.devstack.operator_process import OperatorProcess
from sundial.devstack.temporal_dev import TemporalDevServer
from sundial.domain.desired import ScheduleIdentity

RESYNC = float(RESYNC_SECONDS)
REPAIR_WITHIN = RESYNC + 15.0  # one resync period plus a margin for the reconcile on 2 busy cores
TEMPORAL_CLI = Path(sys.executable).parent / "temporal"


def temporal_cli(server: TemporalDevServer, *args: str) -> None:
    subprocess.run([str(TEMPORAL_CLI), *args, "--address", server.address], check=True, capture_output=True,
                   timeout=30)


def warnings(kube: Kube, namespace: str, name: str, reason: str) -> list[Any]:
    return [e for e in kube.events(namespace, name) if e.reason == reason and e.type == "Warning"]


def managed(kube: Kube, name: str, spec: dict[str, Any] | None = None) -> tuple[str, str]:
    namespace = kube.new_namespace()
    body = create_ready(kube, namespace, name, spec or EXAMPLE_SPEC, timeout=20)
    sid: str = body["status"]["temporal"]["scheduleId"]
    return namespace, sid


async def hours(client: Client, sid: str) -> list[int]:
    calendars = (await describe(client, sid)).schedule.spec.calendars
    return [r.start for calendar in calendars for r in calendar.hour]


async def test_a_schedule_deleted_in_temporal_is_recreated(
    operator: OperatorProcess, kube: Kube, temporal_server: TemporalDevServer, temporal_client: Client
) -> None:
    namespace, sid = managed(kube, "deleted")
    temporal_cli(temporal_server, "schedule", "delete", "--schedule-id", sid)
    started = time.monotonic()
    await eventually_async("recreated in Temporal", lambda: exists(temporal_client, sid), REPAIR_WITHIN)
    assert time.monotonic() - started < REPAIR_WITHIN
    assert await hours(temporal_client, sid) == [9]  # 09:00 in the spec's zone, as the spec says
    eventually("a DriftRepaired Warning", lambda: warnings(kube, namespace, "deleted", "DriftRepaired"))
    assert len(warnings(kube, namespace, "deleted", "DriftRepaired")) == 1


async def test_a_schedule_edited_in_temporal_is_put_back(
    operator: OperatorProcess, kube: Kube, temporal_server: TemporalDevServer, temporal_client: Client
) -> None:
    namespace, sid = managed(kube, "edited")
    before = await hours(temporal_client, sid)
    temporal_cli(temporal_server, "schedule", "update", "--schedule-id", sid, "--cron", "0 17 * * *",
                 "--workflow-id", sid, "--task-queue", "sundial-tasks", "--type", "ScheduledTaskWorkflow")
    assert await hours(temporal_client, sid) == [17]
    await eventually_async("back to the spec's hour", lambda: hours_are(temporal_client, sid, before),
                           REPAIR_WITHIN)
    eventually("a DriftRepaired Warning", lambda: warnings(kube, namespace, "edited", "DriftRepaired"))
    operator.wait_for_sweeps(2)  # another whole sweep must not repair (or announce) it again
    assert len(warnings(kube, namespace, "edited", "DriftRepaired")) == 1


async def test_a_schedule_paused_in_temporal_is_resumed(
    operator: OperatorProcess, kube: Kube, temporal_server: TemporalDevServer, temporal_client: Client
) -> None:
    namespace, sid = managed(kube, "paused")
    temporal_cli(temporal_server, "schedule", "toggle", "--schedule-id", sid, "--pause", "--reason", "ops")
    assert (await describe(temporal_client, sid)).schedule.state.paused
    await eventually_async("unpaused again", lambda: paused_is(temporal_client, sid, False), REPAIR_WITHIN)
    eventually("a DriftRepaired Warning", lambda: warnings(kube, namespace, "paused", "DriftRepaired"))
    assert len(warnings(kube, namespace, "paused", "DriftRepaired")) == 1


async def test_a_schedule_paused_by_spec_and_unpaused_in_temporal_is_paused_again(
    operator: OperatorProcess, kube: Kube, temporal_server: TemporalDevServer, temporal_client: Client
) -> None:
    namespace, sid = managed(kube, "held", {**EXAMPLE_SPEC, "paused": True, "pauseReason": "freeze"})
    temporal_cli(temporal_server, "schedule", "toggle", "--schedule-id", sid, "--unpause")
    await eventually_async("paused again", lambda: paused_is(temporal_client, sid, True), REPAIR_WITHIN)
    assert (await describe(temporal_client, sid)).schedule.state.note == "freeze"
    eventually("a DriftRepaired Warning", lambda: warnings(kube, namespace, "held", "DriftRepaired"))


# --- orphans and schedules that are not ours ---------------------------------------------------

def simple_schedule(sid: str) -> Schedule:
    action = ScheduleActionStartWorkflow("ScheduledTaskWorkflow", id=sid, task_queue="elsewhere")
    return Schedule(action=action, spec=ScheduleSpec(cron_expressions=["0 3 * * *"]))


async def create_raw(client: Client, sid: str, memo: dict[str, str] | None) -> str:
    await client.create_schedule(sid, simple_schedule(sid), memo=memo)
    return sid


def orphan_identity(kube: Kube, name: str) -> ScheduleIdentity:
    return ScheduleIdentity(cluster_id(kube), "no-such-namespace", name, f"uid-{name}")


async def test_an_orphan_of_this_cluster_is_paused_after_two_sweeps_by_default(
    operator: OperatorProcess, kube: Kube, temporal_client: Client
) -> None:
    identity = orphan_identity(kube, f"ghost-{time.monotonic_ns()}")
    created = time.monotonic()
    await create_raw(temporal_client, identity.schedule_id, identity.memo())
    await eventually_async("orphan paused", lambda: paused_is(temporal_client, identity.schedule_id, True),
                           2 * RESYNC + 15)
    assert time.monotonic() - created >= RESYNC - 0.5, "paused in its first sweep: one sweep is not enough"
    assert operator.metric('sundial_orphans_total{action="paused"}') >= 1
    assert f"orphaned Temporal schedule: pause schedule_id={identity.schedule_id}" in operator.log()
    await temporal_client.get_schedule_handle(identity.schedule_id).delete()


async def test_schedules_that_are_not_ours_are_never_touched(
    operator: OperatorProcess, kube: Kube, temporal_client: Client
) -> None:
    ours = orphan_identity(kube, f"look-alike-{time.monotonic_ns()}")
    no_memo = await create_raw(temporal_client, ours.schedule_id, None)
    other = ScheduleIdentity("another-cluster", "no-such-namespace", "theirs", "uid-x")
    other_sid = ours.schedule_id + "-other"
    tagged_other = await create_raw(temporal_client, other_sid, other.memo())
    hand_made = await create_raw(temporal_client, f"hand-made-{time.monotonic_ns()}", {"team": "ops"})
    operator.wait_for_sweeps(3)
    for sid in (no_memo, tagged_other, hand_made):
        state = (await describe(temporal_client, sid)).schedule.state
        assert not state.paused, sid
    for sid in (no_memo, tagged_other, hand_made):
        await temporal_client.get_schedule_handle(sid).delete()


async def test_orphan_policies_report_and_delete(replace_operator: Replacements, kube: Kube,
                                                 temporal_client: Client) -> None:
    identity = orphan_identity(kube, f"ghost-{time.monotonic_ns()}")
    await create_raw(temporal_client, identity.schedule_id, identity.memo())
    reporting = replace_operator("orphan-report", SUNDIAL_ORPHAN_POLICY="report")
    eventually("orphan reported", lambda: reporting.metric('sundial_orphans_total{action="reported"}') == 1,
               timeout=2 * RESYNC + 20)
    reporting.wait_for_sweeps(2)
    assert reporting.metric('sundial_orphans_total{action="reported"}') == 1  # reported once, not per sweep
    assert await exists(temporal_client, identity.schedule_id)
    state = (await describe(temporal_client, identity.schedule_id)).schedule.state
    assert not state.paused  # report touches nothing

    deleting = replace_operator("orphan-delete", SUNDIAL_ORPHAN_POLICY="delete")  # an explicit choice
    await eventually_async("orphan deleted", lambda: gone(temporal_client, identity.schedule_id), 2 * RESYNC + 20)
    assert deleting.metric('sundial_orphans_total{action="deleted"}') == 1


# --- helpers ------------------------------------------------------------------------------------

async def exists(client: Client, sid: str) -> bool:
    try:
        await client.get_schedule_handle(sid).describe()
    except RPCError:
        return False
    return True


async def gone(client: Client, sid: str) -> bool:
    return not await exists(client, sid)


async def paused_is(client: Client, sid: str, paused: bool) -> bool:
    return bool((await describe(client, sid)).schedule.state.paused == paused)


async def hours_are(client: Client, sid: str, expected: list[int]) -> bool:
    return await hours(client, sid) == expected
