"""The sweeper's orchestration against in-memory Temporal and Kubernetes: what it reads, writes and posts."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.support.memory_kube import MemoryKube
from tests.support.memory_temporal import MemoryTemporal
from tests.support.waiting import eventually_async

from sundial.controller.context import OperatorContext
from sundial.controller.metrics import OperatorMetrics
from sundial.controller.sweeper import ORPHAN_NOTE, SweepConfig, Sweeper
from sundial.domain.desired import ObservedSchedule, ScheduleIdentity
from sundial.domain.indexed import IndexedSchedule, indexed_from_body
from sundial.settings import Settings

CLUSTER = "cluster-a"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
NEXT = NOW + timedelta(hours=1)


class World:
    """A fake operator: resources, their Temporal schedules, a reconcile that puts Temporal back."""

    def __init__(self, policy: str = "delete", page_size: int = 100, full_check_seconds: float = 3600.0) -> None:
        self.temporal, self.kube, self.now = MemoryTemporal(), MemoryKube(), NOW
        self.ctx = OperatorContext(settings=Settings(), temporal=self.temporal, kube=self.kube, cluster_id=CLUSTER,
                                   logger=logging.getLogger("test-sweeper"), clock=lambda: self.now)
        self.repaired: list[str] = []
        self.metrics = OperatorMetrics()
        config = SweepConfig(interval_seconds=0.05, orphan_policy=policy, page_size=page_size,
                             full_check_seconds=full_check_seconds)
        self.sweeper = Sweeper(self.ctx, self.index, {}, self.reconcile, config, self.metrics)

    @property
    def index(self) -> Mapping[tuple[str, str], list[IndexedSchedule]]:
        return _LiveIndex(self.kube.bodies)

    def identity(self, name: str, uid: str | None = None) -> ScheduleIdentity:
        return ScheduleIdentity(CLUSTER, "team-a", name, uid or f"uid-{name}")

    def resource(self, name: str, paused: bool = False) -> ScheduleIdentity:
        identity = self.identity(name)
        self.kube.bodies[("team-a", name)] = {
            "metadata": {"namespace": "team-a", "name": name, "uid": identity.uid, "generation": 1},
            "spec": {"paused": paused, "timeZone": "UTC"},
            "status": {"observedGeneration": 1, "phase": "Paused" if paused else "Active",
                       "conditions": [{"type": "Paused", "status": str(paused)}],
                       "temporal": {"fingerprint": "aaaa.bbbb"}, "nextRunTime": "2026-11-22T13:00:00Z"}}
        self.temporal.put(identity, paused=paused)
        return identity

    async def reconcile(self, body: Mapping[str, Any], siblings: Sequence[tuple[str, str]]) -> None:
        meta = body["metadata"]
        self.repaired.append(meta["name"])
        identity = self.identity(meta["name"], meta["uid"])
        self.temporal.put(identity, paused=bool(body["spec"]["paused"]))
        self.temporal.rest.pop(identity.schedule_id, None)  # the whole schedule as the spec says

    def value(self, name: str, **labels: str) -> float:
        return self.metrics.value(name, **labels)


class _LiveIndex(Mapping[tuple[str, str], list[IndexedSchedule]]):
    """Like kopf's index: a live view of the resources, one entry each."""

    def __init__(self, bodies: dict[tuple[str, str], dict[str, Any]]):
        self.bodies = bodies

    def __getitem__(self, key: tuple[str, str]) -> list[IndexedSchedule]:
        return [indexed_from_body(self.bodies[key])]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(list(self.bodies))

    def __len__(self) -> int:
        return len(self.bodies)


def firing_condition(world: World) -> dict[str, Any]:
    conditions = world.kube.bodies[("team-a", "news")]["status"]["conditions"]
    found: dict[str, Any] = next(c for c in conditions if c["type"] == "Firing")
    return found


@pytest.fixture
def world() -> World:
    return World()


async def test_an_idle_sweep_reads_and_writes_nothing_in_kubernetes(world: World) -> None:
    for n in range(250):
        world.resource(f"s{n}")
    assert await world.sweeper.readiness.check(250)  # once after start: is kopf's index whole? (index_readiness)
    world.kube.reads = 0
    plan = await world.sweeper.sweep()
    assert plan.idle and plan.listed == 250
    assert world.kube.writes == {} and world.kube.reads == 0 and world.kube.events == []
    # the rolling full check describes ceil(250 * 0.05 s / 3600 s) = 1 schedule, and reads nothing
    assert dict(world.temporal.calls) == {"list": {"ok": 3, "error": 0}, "describe": {"ok": 1, "error": 0}}
    assert world.value("sundial_last_sweep_temporal_calls", operation="list") == 3
    assert world.value("sundial_last_sweep_full_checks") == 1
    assert world.value("sundial_last_sweep_kubernetes_writes") == 0
    assert world.value("sundial_last_sweep_listed_schedules") == 250


@pytest.mark.parametrize(("break_it", "kind"), [
    (lambda t, i: t.schedules.pop(i.schedule_id), "missing"),
    (lambda t, i: t.put(i, paused=True), "paused"),
], ids=["deleted", "paused"])
async def test_missing_and_paused_schedules_are_repaired_with_one_warning(world: World, break_it: Any,
                                                                          kind: str) -> None:
    identity = world.resource("news")
    break_it(world.temporal, identity)
    await world.sweeper.sweep()
    assert world.repaired == ["news"]
    assert [(e[1], e[2]) for e in world.kube.events] == [("Warning", "DriftRepaired")]
    assert world.value("sundial_drift_repairs_total", kind=kind) == 1
    await world.sweeper.sweep()
    assert world.repaired == ["news"]


async def test_an_out_of_band_edit_is_repaired_and_the_reconcile_posts_the_event(world: World) -> None:
    identity = world.resource("news")
    world.temporal.put(identity, listed_fingerprint="edit")
    await world.sweeper.sweep()
    assert world.repaired == ["news"] and world.kube.events == []
    assert world.value("sundial_drift_repairs_total", kind="edited") == 1


async def test_a_suspicion_from_a_lagging_list_is_not_acted_on(world: World) -> None:
    identity = world.resource("news")
    world.temporal.put(identity, paused=True)
    real = world.temporal.describe

    async def describe_shows_it_unpaused(schedule_id: str) -> ObservedSchedule:
        return dataclasses.replace(await real(schedule_id), paused=False)

    world.temporal.describe = describe_shows_it_unpaused  # type: ignore[method-assign]
    await world.sweeper.sweep()
    assert world.repaired == [] and world.kube.events == [] and world.kube.writes == {}


async def test_a_failed_repair_is_counted_and_posts_nothing(world: World) -> None:
    world.resource("news")
    world.temporal.schedules.clear()

    async def failing(body: Mapping[str, Any], siblings: Sequence[tuple[str, str]]) -> None:
        raise RuntimeError("Temporal said no")

    world.sweeper.repair = failing
    await world.sweeper.sweep()
    assert world.kube.events == []
    assert world.value("sundial_sweep_errors_total", stage="repair") == 1


@pytest.mark.parametrize(("policy", "expected"), [("delete", "deleted"), ("pause", "paused"),
                                                  ("report", "reported")])
async def test_an_orphan_is_handled_by_policy_after_two_sweeps_and_only_once(policy: str,
                                                                             expected: str) -> None:
    world = World(policy)
    orphan = world.temporal.put(world.identity("gone"))
    await world.sweeper.sweep()
    assert world.temporal.schedules[orphan.schedule_id] == orphan
    for _ in range(3):
        await world.sweeper.sweep()
    assert world.value("sundial_orphans_total", action=expected) == 1
    remaining = world.temporal.schedules.get(orphan.schedule_id)
    if policy == "delete":
        assert remaining is None
    elif policy == "pause":
        assert remaining is not None and remaining.paused and remaining.note == ORPHAN_NOTE
    else:
        assert remaining == orphan


async def test_schedules_not_ours_are_never_touched(world: World) -> None:
    foreign = world.temporal.put(ScheduleIdentity("cluster-b", "team-a", "x", "u"),
                                     schedule_id=world.identity("x").schedule_id)
    unmanaged = world.temporal.put(world.identity("y"), memo={})
    for _ in range(3):
        await world.sweeper.sweep()
    assert world.temporal.schedules == {foreign.schedule_id: foreign, unmanaged.schedule_id: unmanaged}
    assert set(world.temporal.calls) == {"list"}


async def test_an_orphan_whose_resource_turns_up_is_left_alone(world: World) -> None:
    orphan = world.temporal.put(world.identity("late"))
    await world.sweeper.sweep()
    world.sweeper.index = {}  # the index still lags, but the resource now exists
    world.kube.bodies[("team-a", "late")] = {"metadata": {"namespace": "team-a", "name": "late",
                                                              "uid": "uid-late", "generation": 1}}
    await world.sweeper.sweep()
    assert orphan.schedule_id in world.temporal.schedules
    assert world.value("sundial_orphans_total", action="deleted") == 0


async def test_next_run_time_is_patched_alone_when_temporal_shows_a_new_one(world: World) -> None:
    identity = world.resource("news")
    world.temporal.put(identity, next_action_times=(datetime(2026, 11, 22, 14, 0, tzinfo=UTC),))
    assert await world.sweeper.readiness.check(1)
    world.kube.reads = 0
    await world.sweeper.sweep()
    assert world.kube.patches == [("team-a", "news", {"nextRunTime": "2026-11-22T14:00:00Z",
                                                          "nextRunTimeLocal": "2026-11-22 14:00 UTC"})]
    assert world.kube.reads == 0
    await world.sweeper.sweep()
    assert len(world.kube.patches) == 1


async def test_the_watchdog_flags_an_overdue_schedule_and_clears_it_when_it_fires(world: World) -> None:
    identity = world.resource("news")
    due = NOW - timedelta(minutes=10)
    world.kube.bodies[("team-a", "news")]["status"]["nextRunTime"] = "2026-11-22T11:50:00Z"
    world.temporal.put(identity, next_action_times=(due,))
    await world.sweeper.sweep()
    firing = firing_condition(world)
    assert (firing["type"], firing["status"], firing["reason"]) == ("Firing", "False", "Overdue")
    assert [(e[1], e[2]) for e in world.kube.events] == [("Warning", "Overdue")]
    assert world.value("sundial_overdue_schedules") == 1
    await world.sweeper.sweep()
    assert len(world.kube.events) == 1

    world.temporal.put(identity, next_action_times=(NEXT,))
    await world.sweeper.sweep()
    firing = firing_condition(world)
    assert (firing["status"], firing["reason"]) == ("True", "OnTime")
    assert [(e[1], e[2]) for e in world.kube.events][-1] == ("Normal", "Firing")
    assert world.value("sundial_overdue_schedules") == 0


async def test_the_loop_survives_temporal_being_away_and_restarts_the_orphan_count(world: World) -> None:
    orphan = world.temporal.put(world.identity("gone"))
    await world.sweeper.sweep()
    world.temporal.down = True
    stop = asyncio.Event()
    loop = asyncio.create_task(world.sweeper.run(stop))
    await eventually_async("a failed sweep", lambda: asyncio.sleep(0, world.value("sundial_sweeps_total",
                                                                              result="error") >= 1), 5, 0.01)
    world.temporal.down = False
    await eventually_async("two sweeps", lambda: asyncio.sleep(0, world.value("sundial_sweeps_total",
                                                                          result="ok") >= 2), 5, 0.01)
    stop.set()
    await loop
    sweeps_since_outage = world.value("sundial_sweeps_total", result="ok") - 1
    deleted = world.value("sundial_orphans_total", action="deleted")
    assert deleted == (1 if sweeps_since_outage >= 2 else 0)  # the sweep before the outage does not count
    assert (orphan.schedule_id in world.temporal.schedules) == (deleted == 0)


def test_the_sweep_config_comes_from_settings() -> None:
    from sundial.settings import load_settings

    settings = load_settings({"SUNDIAL_RESYNC_SECONDS": "15", "SUNDIAL_ORPHAN_POLICY": "report",
                              "SUNDIAL_OVERDUE_GRACE_SECONDS": "30"})
    config = SweepConfig.from_settings(settings)
    assert (config.interval_seconds, config.orphan_policy, config.page_size) == (15, "report", 1000)
    assert config.overdue_grace == timedelta(seconds=30)


def test_the_sweepers_own_kubernetes_writes_are_counted_apart_and_in_the_operators_total() -> None:
    from kubernetes.client import ApiClient

    from sundial.adapters.kube import KubeGateway
    from sundial.controller.background import AttributedKube

    operator_kube = KubeGateway(api=ApiClient(), writes={"status": 5})
    own = AttributedKube.of(operator_kube)
    own._count("status")
    own._count("event")
    assert own.writes == {"status": 1, "event": 1}
    assert operator_kube.writes == {"status": 6, "event": 1}


async def test_an_edit_only_a_describe_shows_is_repaired_within_one_full_check_period() -> None:
    world = World(full_check_seconds=0.5)  # resync 0.05 s: a slice of ceil(20 * 0.05 / 0.5) = 2 a sweep
    identities = [world.resource(f"s{n:02d}") for n in range(20)]
    world.temporal.rest[identities[13].schedule_id] = "other-task-queue"
    for _ in range(10):  # 10 sweeps = 0.5 s of resync: the whole rotation
        plan = await world.sweeper.sweep()
        assert plan.drift == ()  # the list shows nothing
        assert world.value("sundial_last_sweep_full_checks") == 2
    assert world.repaired == ["s13"]
    assert world.value("sundial_drift_repairs_total", kind="edited") == 1
    assert world.temporal.calls["describe"]["ok"] == 20 + 1  # each once, and the repair's confirmation


async def test_no_orphan_is_judged_while_kopf_is_still_filling_its_index(world: World) -> None:
    """At start kopf lists every resource before its index is whole (minutes at 10,000): a schedule whose
    resource is not indexed yet is no orphan candidate (it cost a describe and a read each, for nothing):
    the sweep waits, one count read each time, until the index is whole."""
    for n in range(3):
        world.resource(f"s{n}")
    bodies = list(world.kube.bodies.items())
    filling = {key: [indexed_from_body(body)] for key, body in bodies[:1]}
    sweeper = Sweeper(world.ctx, filling, {}, world.reconcile, world.sweeper.config, world.metrics)
    for _ in range(3):
        plan = await sweeper.sweep()
        assert (plan.orphans_seen, plan.orphans_due, plan.listed) == (frozenset(), (), 0)
    assert world.kube.calls["get"] == 0 and world.kube.reads == 3  # one count per sweep while it fills
    assert "list" not in world.temporal.calls and world.value("sundial_sweeps_total", result="waiting") == 3
    filling.update({key: [indexed_from_body(body)] for key, body in bodies[1:]})
    gone = world.temporal.put(world.identity("gone"))  # a real orphan: judged once the index is whole
    await sweeper.sweep()
    await sweeper.sweep()
    assert gone.schedule_id not in world.temporal.schedules
    assert world.kube.reads == 4 + 1  # the count that found it whole, then the orphan's own check
