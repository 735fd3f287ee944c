"""The drift sweeper: one loop per operator that keeps Temporal in line with the resources.

kopf is edge-triggered: nothing happens when someone edits a schedule in Temporal, when a
resource vanished while the operator was down, or when a quota place frees up. Every
``SUNDIAL_RESYNC_SECONDS`` this loop lists this cluster's Temporal schedules in pages, holds
them against the operator's index of the resources (``schedule_index``) and lets ``domain.drift.plan_sweep`` decide: an
idle sweep is O(N / page size) list calls, no Kubernetes call. A suspicion is confirmed first:

    drift (missing, edited, paused/unpaused, replaced) -> reconcile; Warning Event DriftRepaired
    ended (no next run; endAt passed, maxRuns used)    -> reconcile, which marks it Completed
    orphan seen in two sweeps in a row -> SUNDIAL_ORPHAN_POLICY: delete | pause | report
    next run time moved                -> status-only patch of nextRunTime/nextRunTimeLocal
    next run time long past, no run    -> Firing=False (Overdue) + Warning Event; back later
    refused by the quota, admitted now -> reconcile, in quota order (domain.readmission)
    Error, or a trigger waiting        -> retried with backoff until done (domain.retry)
    another install's schedule at a resource's ID -> reconcile, which reports InstallConflict
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from contextlib import suppress
from typing import Any

from sundial.adapters.kube import ScheduleResourceNotFound
from sundial.controller.context import OperatorContext
from sundial.controller.full_check import RollingFullCheck, compare_fully
from sundial.controller.index_readiness import IndexReadiness
from sundial.controller.install_conflicts import ForeignSchedules
from sundial.controller.metrics import METRICS, OperatorMetrics, record_sweep
from sundial.controller.readmission import readmit
from sundial.controller.retries import reconcile_now, retry_one
from sundial.controller.sweep_config import SweepConfig as SweepConfig  # re-exported
from sundial.domain import conditions as cond
from sundial.domain import status as st
from sundial.domain.desired import ListedSchedule, ObservedSchedule, ScheduleIdentity, cluster_prefix
from sundial.domain.drift import Drift, FiringChange, SweepPlan, confirm_drift, is_orphan, orphan_action, plan_sweep
from sundial.domain.indexed import IndexedSchedule, Key, indexed_from_body
from sundial.domain.readmission import readmissions
from sundial.domain.retry import RetryBook, needs_retry
from sundial.errors import ScheduleNotFound
from sundial.logs import decision

Repair = Callable[[Mapping[str, Any], Sequence[tuple[str, str]]], Awaitable[None]]
WARNING, NORMAL = "Warning", "Normal"
ORPHAN_NOTE = "paused by Sundial: no Schedule resource manages this schedule (orphan)"
_DRIFT_MESSAGES = {
    Drift.MISSING: "the Temporal schedule was deleted outside Sundial; recreated it from the spec",
    Drift.PAUSED: "the Temporal schedule was paused outside Sundial; resumed it as the spec says",
    Drift.UNPAUSED: "the Temporal schedule was unpaused outside Sundial; paused it again as the spec says",
    Drift.REPLACED: "the schedule ID was held by an earlier resource's schedule; replaced it",
}


class Sweeper:
    """Lists, compares, and acts on what differs; see the module docstring."""

    def __init__(self, ctx: OperatorContext, index: Mapping[Key, Iterable[IndexedSchedule]],
                 namespaces: Mapping[str, Iterable[tuple[str, str]]], repair: Repair, config: SweepConfig,
                 metrics: OperatorMetrics = METRICS, readiness: IndexReadiness | None = None) -> None:
        self.ctx, self.index, self.namespaces, self.repair = ctx, index, namespaces, repair
        self.config, self.metrics = config, metrics
        self.previous_orphans: frozenset[str] = frozenset()
        self.reported: set[str] = set()  # orphans already paused or reported (act once)
        self.retries = RetryBook()
        self.full_check = RollingFullCheck(config.interval_seconds, config.full_check_seconds, metrics)
        self.kube_reads = 0
        self.readiness = readiness or IndexReadiness(ctx.kube, config.namespaces)
        self.logger = logging.getLogger("sundial.controller.sweeper")
        self.foreign = ForeignSchedules(metrics, self.logger, ctx.install_id)

    async def run(self, stop: asyncio.Event, active: Callable[[], Awaitable[bool]] | None = None) -> None:
        """Sweep every ``interval_seconds`` until ``stop`` is set; a failed sweep is logged and retried.
        A standby peer (``active`` false, ``controller.peering``) skips the sweep and forgets its orphans."""
        while not stop.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.config.interval_seconds)
            if stop.is_set():
                return
            if active is not None and not await active():
                self.previous_orphans = frozenset()  # "two sweeps in a row" means two of this process's
                continue
            try:
                await self.sweep()
            except Exception as exc:  # a failed sweep must not end the loop
                self.previous_orphans = frozenset()  # "two sweeps in a row" starts over
                self.metrics.sweeps.inc(result="error")
                decision(self.logger, "sweep-failed", f"sweep failed: {exc}", logging.WARNING,
                         error=type(exc).__name__)

    def snapshot(self) -> dict[Key, IndexedSchedule]:
        found = {key: next(iter(store), None) for key, store in list(self.index.items())}
        return {key: value for key, value in found.items() if value is not None}

    async def list_ours(self) -> list[ListedSchedule]:
        query = f"ScheduleId STARTS_WITH '{cluster_prefix(self.ctx.cluster_id)}'"
        return [entry async for entry in self.ctx.temporal.list_schedules(self.config.page_size, query)]

    async def sweep(self) -> SweepPlan:
        """One pass: list, decide, act. Returns the plan (for tests and the benchmark)."""
        if not await self.readiness.check(len(self.index)):  # the index is still filling: index_readiness.py
            self.metrics.sweeps.inc(result="waiting")
            return SweepPlan()
        started, temporal_before = time.monotonic(), self._temporal_calls()
        writes_before, reads_before = sum(self.ctx.kube.writes.values()), self.kube_reads
        entries = await self.list_ours()
        index = self.snapshot()
        watched = frozenset(self.config.namespaces) if self.config.namespaces else None
        plan = plan_sweep(self.ctx.cluster_id, entries, index, self.previous_orphans, self.ctx.clock(),
                          self.config.overdue_grace, watched, self.ctx.install_id)
        self.foreign.report(plan.foreign)
        self.previous_orphans = plan.orphans_seen
        self.reported &= plan.orphans_seen
        jobs: list[Coroutine[Any, Any, None]] = []
        jobs += [self._repair(key, index[key], kind) for key, kind in plan.drift]
        jobs += [self._orphan(entry) for entry in plan.orphans_due]
        jobs += [self._next_run(key, patch) for key, patch in plan.next_runs]
        jobs += [self._firing(change) for change in plan.firing]
        jobs += [self._full_check(key, index[key]) for key in self.full_check.pick(index, plan)]
        jobs += [self._guarded("conflict", key, reconcile_now(key, self._siblings(key), self._get, self.repair))
                 for key in plan.conflicts]  # the reconcile says InstallConflict in status
        for key in readmissions(index, self._by_namespace(), self.ctx.limits_for):  # a place freed up
            jobs.append(self._guarded("readmit", key, readmit(key, self._siblings(key), self._get, self.repair,
                                                              self.logger)))
        for key in self.retries.pick([k for k, i in index.items() if needs_retry(i)], time.monotonic()):
            jobs.append(self._guarded("retry", key, retry_one(self.ctx, key, self._siblings(key), self._get,
                                                              self.repair, self.logger)))
        await self._bounded(jobs)
        elapsed = time.monotonic() - started
        reads = self.kube_reads - reads_before
        self._record(plan, elapsed, temporal_before, writes_before, reads)
        if not plan.idle or plan.orphans_seen:
            decision(self.logger, "sweep", "sweep done", listed=plan.listed, resources=len(index),
                     drift=len(plan.drift), orphans_seen=len(plan.orphans_seen),
                     orphans_due=len(plan.orphans_due), next_runs=len(plan.next_runs),
                     firing=len(plan.firing), seconds=round(elapsed, 3))
        return plan

    async def _bounded(self, jobs: list[Coroutine[Any, Any, None]]) -> None:
        slots = asyncio.Semaphore(self.config.concurrency)

        async def one(job: Coroutine[Any, Any, None]) -> None:
            async with slots:
                await job

        await asyncio.gather(*(one(job) for job in jobs))

    async def _get(self, namespace: str, name: str) -> dict[str, Any] | None:
        self.kube_reads += 1
        try:
            return await self.ctx.kube.get_schedule(namespace, name)
        except ScheduleResourceNotFound:
            return None

    async def _describe(self, schedule_id: str) -> ObservedSchedule | None:
        try:
            return await self.ctx.temporal.describe(schedule_id)
        except ScheduleNotFound:
            return None

    def _failed(self, stage: str, what: str, exc: Exception) -> None:
        self.metrics.sweep_errors.inc(stage=stage)
        decision(self.logger, f"{stage}-failed", f"{stage} failed", logging.WARNING, target=what,
                 error=f"{type(exc).__name__}: {exc}")

    async def _repair(self, key: Key, indexed: IndexedSchedule, suspected: Drift) -> None:
        namespace, name = key
        what = f"{namespace}/{name}"
        try:
            schedule_id = ScheduleIdentity(self.ctx.cluster_id, namespace, name, indexed.uid).schedule_id
            observed = await self._describe(schedule_id)
            body = await self._get(namespace, name)
            kind = (confirm_drift(indexed_from_body(body), observed, self.ctx.cluster_id, self.ctx.clock(),
                                  self.ctx.install_id)
                    if body else None)
            if kind is None:
                decision(self.logger, "drift-not-confirmed", "suspected drift not confirmed", schedule=what,
                         suspected=suspected.value)
                return
            assert body is not None
            await self.repair(body, list(self.namespaces.get(namespace, ())))
        except Exception as exc:  # one resource's failure must not stop the sweep
            self._failed("repair", what, exc)
            return
        if kind is Drift.ENDED:  # not drift: the reconcile marked it Completed
            decision(self.logger, "schedule-ended", "schedule ended", schedule=what, schedule_id=schedule_id)
            return
        self.metrics.drift_repairs.inc(kind=kind.value)
        decision(self.logger, "drift-repaired", "drift repaired", logging.WARNING, schedule=what,
                 kind=kind.value, schedule_id=schedule_id)
        if kind in _DRIFT_MESSAGES:  # for EDITED the reconcile itself posted DriftRepaired
            await self.ctx.event(body, WARNING, "DriftRepaired", _DRIFT_MESSAGES[kind])

    def _by_namespace(self) -> dict[str, list[tuple[str, str]]]:
        return {namespace: list(store) for namespace, store in list(self.namespaces.items())}

    async def _full_check(self, key: Key, indexed: IndexedSchedule) -> None:
        """Describe and compare the whole fingerprint; repair (as drift) only what differs."""
        try:
            kind = await compare_fully(self.ctx, key, indexed, self._describe)
        except Exception as exc:
            self._failed("full-check", f"{key[0]}/{key[1]}", exc)
            return
        if kind is not None:
            await self._repair(key, indexed, kind)

    def _siblings(self, key: Key) -> list[tuple[str, str]]:
        return list(self.namespaces.get(key[0], ()))

    async def _guarded(self, stage: str, key: Key, job: Awaitable[Any]) -> None:
        """One resource's failure (still refused, Temporal still away) is counted; the next sweep tries again."""
        try:
            await job
        except Exception as exc:
            self._failed(stage, f"{key[0]}/{key[1]}", exc)

    async def _orphan(self, entry: ListedSchedule) -> None:
        schedule_id, policy = entry.schedule_id, self.config.orphan_policy
        try:
            observed = await self._describe(schedule_id)
            identity = observed.identity if observed else None
            if observed is None or identity is None:
                return
            body = await self._get(identity.namespace, identity.name)
            indexed = indexed_from_body(body) if body else None
            if not is_orphan(observed, indexed, self.ctx.cluster_id, self.ctx.install_id):
                decision(self.logger, "orphan-not-confirmed", "not an orphan after all",
                         schedule_id=schedule_id)
                return
            action = orphan_action(policy, observed, schedule_id in self.reported)
            if action == "delete":
                await self.ctx.temporal.delete(schedule_id)
            elif action == "pause":
                await self.ctx.temporal.pause(schedule_id, ORPHAN_NOTE)
        except Exception as exc:
            self._failed("orphan", schedule_id, exc)
            return
        if action is None:
            return
        self.reported.add(schedule_id)
        self.metrics.orphans.inc(action={"delete": "deleted", "pause": "paused"}.get(action, "reported"))
        decision(self.logger, f"orphan-{action}", f"orphaned Temporal schedule: {action}", logging.WARNING,
                 schedule_id=schedule_id, resource=f"{identity.namespace}/{identity.name}", uid=identity.uid,
                 policy=policy)

    async def _next_run(self, key: Key, patch: st.Status) -> None:
        namespace, name = key
        try:
            await self.ctx.kube.patch_status(namespace, name, patch)
        except Exception as exc:
            self._failed("next-run", f"{namespace}/{name}", exc)
            return
        decision(self.logger, "next-run-refreshed", "next run time refreshed", logging.DEBUG,
                 schedule=f"{namespace}/{name}", next_run=patch.get("nextRunTime"))

    async def _firing(self, change: FiringChange) -> None:
        namespace, name = change.key
        what = f"{namespace}/{name}"
        try:
            body = await self._get(namespace, name)
            if body is None:
                return
            previous = st.status_of(body).copy()
            current = indexed_from_body(body)
            overdue_now = current.firing == "False" and current.firing_reason == cond.OVERDUE
            if overdue_now == (not change.firing):
                return  # someone else already flipped it
            generation = int(body["metadata"].get("generation") or 0)
            reason = cond.ON_TIME if change.firing else cond.OVERDUE
            conditions = st.with_condition(st.conditions_of(previous), cond.FIRING, change.firing,
                                           reason, change.message, generation, self.ctx.clock())
            await self.ctx.write_status(body, previous, {**previous, "conditions": conditions})
            if not change.firing:
                await self.ctx.event(body, WARNING, cond.OVERDUE, change.message)
            elif not current.expected_paused:
                await self.ctx.event(body, NORMAL, "Firing", change.message)
        except Exception as exc:
            self._failed("watchdog", what, exc)
            return
        decision(self.logger, "overdue" if not change.firing else "firing-again",
                 "Firing=" + str(change.firing), logging.WARNING if not change.firing else logging.INFO,
                 schedule=what, detail=change.message)

    def _temporal_calls(self) -> dict[str, int]:
        return {op: sum(by.values()) for op, by in self.ctx.temporal.calls.items()}

    def _record(self, plan: SweepPlan, elapsed: float, temporal_before: dict[str, int], writes_before: int,
                reads: int) -> None:
        temporal = {op: count - temporal_before.get(op, 0) for op, count in self._temporal_calls().items()}
        record_sweep(self.metrics, plan.listed, len(plan.orphans_seen), plan.overdue, elapsed, temporal,
                     sum(self.ctx.kube.writes.values()) - writes_before, reads)
