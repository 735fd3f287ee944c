"""Run accounting: one loop per operator that folds closed runs into each Schedule's status.

A timer per resource would cost a task and Temporal calls per resource per period. One
sweep instead costs, whatever the number of schedules:

* Kubernetes: one LIST of the Schedules (a consistent read: the counters and watermark a
  fold starts from must be the stored ones, never a cache that may lag our own last
  write), then for each resource that changed one GET (fold again on the freshest status,
  so a concurrent ``sundial resume`` is not overwritten) and one status PATCH;
* Temporal: one paginated visibility query for this cluster's runs closed since the
  oldest watermark, one for its open runs, and one close-event read per *new* run.

The watermark (``domain.runs``) is kept in the status, written in the same patch as the
counters, so a crash anywhere means reading again, never counting twice. Between writes
an in-memory cursor per resource remembers how far its runs are known to be counted, so
the query window stays ``now - (lag + interval)`` wide even for schedules that never run;
after a restart the first sweep reads back from the oldest stored watermark, which idle
schedules refresh at most every ``refresh_after`` (a bounded number of writes per sweep).

An automatic pause is written as ``status.accounting.autoPause`` with the counters; then
a Warning Event, and ``reconcile`` pauses the Temporal schedule (``effective_pause``).
Until the Paused condition shows it, every sweep calls ``reconcile`` again, so a crash or
an unreachable Temporal between the patch and the pause is repaired.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import defaultdict
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Final

from pydantic import ValidationError

from sundial.adapters.kube import ScheduleResourceNotFound
from sundial.adapters.temporal_runs import TemporalRuns
from sundial.domain import status as st
from sundial.domain.desired import cluster_prefix
from sundial.domain.models import HistorySpec, PolicySpec
from sundial.domain.runs import (
    SAFETY_LAG,
    HistoryLimits,
    Ledger,
    RunInfo,
    auto_pause_decision,
    changed_leaves,
    closed_run,
    fold,
    parse_time,
    uncounted,
    with_running,
)
from sundial.errors import SettingsError, TemporalUnavailable
from sundial.logs import decision
from sundial.reconcile import WARNING, OperatorContext, reconcile
from sundial.worker.history import RunOutcome

POLL_ENV: Final = "SUNDIAL_RUNS_POLL_SECONDS"
DEFAULT_POLL_SECONDS: Final = 15.0
log = logging.getLogger("sundial.accounting")


def poll_seconds(env: Mapping[str, str] | None = None) -> float:
    """``SUNDIAL_RUNS_POLL_SECONDS`` (default 15): seconds between sweeps; SettingsError if bad."""
    raw = (os.environ if env is None else env).get(POLL_ENV, "").strip() or str(DEFAULT_POLL_SECONDS)
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{POLL_ENV}={raw!r} is not a number of seconds") from None
    if not 0.1 <= value <= 3600:
        raise SettingsError(f"{POLL_ENV}={raw!r} must be between 0.1 and 3600 seconds")
    return value


@dataclass
class AccountingState:
    """What one operator process remembers between sweeps (lost on restart, by design)."""

    cursors: dict[str, datetime] = field(default_factory=dict)  # uid -> runs closed before are counted
    outcomes_read: int = 0


@dataclass
class AccountingReport:
    """What one sweep did and what it cost."""

    schedules: int = 0
    window_start: datetime | None = None
    closed_listed: int = 0
    running: int = 0
    new_runs: int = 0
    status_patches: int = 0
    watermark_refreshes: int = 0
    auto_paused: list[str] = field(default_factory=list)
    pauses_applied: int = 0
    temporal_calls: dict[str, int] = field(default_factory=dict)
    kube_calls: int = 1
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class _Resource:
    body: Mapping[str, Any]
    ledger: Ledger
    not_before: datetime | None
    limits: HistoryLimits
    policy: PolicySpec

    @property
    def uid(self) -> str:
        return str(self.body["metadata"]["uid"])

    @property
    def key(self) -> str:
        meta = self.body["metadata"]
        return f"{meta['namespace']}/{meta['name']}"

    @property
    def watermark(self) -> datetime | None:
        return self.ledger.closed_through or self.not_before


def _resource(body: Mapping[str, Any]) -> _Resource:
    spec, status = body.get("spec") or {}, body.get("status") or {}
    try:
        history = HistorySpec.model_validate(spec.get("history") or {})
    except ValidationError:
        history = HistorySpec()
    try:
        policy = PolicySpec.model_validate(spec.get("policy") or {})
    except ValidationError:  # an invalid spec still has its runs counted; no auto-pause rules
        policy = PolicySpec(max_consecutive_failures=0)
    return _Resource(body, Ledger.from_status(status), parse_time(body["metadata"].get("creationTimestamp")),
                     HistoryLimits(history.successful_runs_limit, history.failed_runs_limit), policy)


async def account_once(ctx: OperatorContext, state: AccountingState | None = None, *,
                       lag: timedelta = SAFETY_LAG, refresh_after: timedelta = timedelta(hours=1),
                       max_refreshes: int = 50, page_size: int = 1000, concurrency: int = 16
                       ) -> AccountingReport:
    """One sweep over every Schedule (see the module docstring). Raises TemporalUnavailable."""
    state = state if state is not None else AccountingState()
    started, calls_before = time.monotonic(), _calls(ctx)
    report, now = AccountingReport(), ctx.clock()
    bodies = [b for b in await ctx.kube.list_schedules() if not b["metadata"].get("deletionTimestamp")]
    resources = {ctx.identity(b).schedule_id: _resource(b) for b in bodies}
    report.schedules = len(resources)
    uids = {r.uid for r in resources.values()}
    state.cursors = {uid: at for uid, at in state.cursors.items() if uid in uids}  # forget deleted resources
    if not resources:
        return report
    cursors = [max(filter(None, (r.watermark, state.cursors.get(r.uid))), default=now) for r in resources.values()]
    window = min(cursors) - timedelta(seconds=1)  # a little earlier: watermarks are whole seconds
    report.window_start = window
    runs, prefix = TemporalRuns(ctx.temporal), cluster_prefix(ctx.cluster_id)
    closed: defaultdict[str, list[RunInfo]] = defaultdict(list)
    async for info in runs.list_closed_runs(prefix, window, page_size):
        closed[info.schedule_id].append(info)
        report.closed_listed += 1
    running: defaultdict[str, list[RunInfo]] = defaultdict(list)
    async for info in runs.list_running(prefix, page_size):
        running[info.schedule_id].append(info)
        report.running += 1
    siblings: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)
    for body in bodies:
        siblings[body["metadata"]["namespace"]].append(
            (body["metadata"].get("creationTimestamp") or "", body["metadata"]["name"]))
    stale = sorted((r.watermark or now, sid) for sid, r in resources.items()
                   if r.ledger.closed_through is None or r.ledger.closed_through < now - refresh_after)
    refresh = {sid for _, sid in stale[:max_refreshes]}
    sweep = _Sweep(ctx, state, report, runs, now, window, lag, siblings, asyncio.Semaphore(concurrency))
    await asyncio.gather(*(sweep.account(resource, closed.get(sid, []), running.get(sid, []), sid in refresh)
                           for sid, resource in resources.items()))
    report.temporal_calls = {op: n - calls_before.get(op, 0) for op, n in _calls(ctx).items()
                             if n != calls_before.get(op, 0)}
    report.seconds = time.monotonic() - started
    if sweep.unavailable is not None:
        raise sweep.unavailable
    return report


def _calls(ctx: OperatorContext) -> dict[str, int]:
    return {op: sum(by.values()) for op, by in ctx.temporal.calls.items()}


@dataclass
class _Sweep:
    ctx: OperatorContext
    state: AccountingState
    report: AccountingReport
    runs: TemporalRuns
    now: datetime
    window: datetime
    lag: timedelta
    siblings: Mapping[str, list[tuple[str, str]]]
    slots: asyncio.Semaphore
    outcomes: dict[str, RunOutcome | None] = field(default_factory=dict)
    unavailable: TemporalUnavailable | None = None

    async def account(self, resource: _Resource, closed: list[RunInfo], running: list[RunInfo],
                      refresh: bool) -> None:
        """Fold, write when something changed (or the stored watermark is stale), pause if due."""
        async with self.slots:
            if self.unavailable is not None:
                return  # Temporal is away: the whole sweep is tried again next time
            try:
                new = await self._fold(resource, closed, running)
                body, fresh = resource.body, False
                if new.differs_from(resource.ledger) or refresh:
                    (body, new), fresh = await self._write(resource, closed, running), True
                self.state.cursors[resource.uid] = new.closed_through or self.window
                await self._apply_pause(body, fresh)
            except TemporalUnavailable as exc:
                self.unavailable = exc
            except Exception as exc:  # one resource's failure (a gone resource, a refused write) stops no other
                self.report.failures.append(f"{resource.key}: {exc}")
                decision(log, "accounting-failed", "run accounting failed", logging.WARNING,
                         schedule=resource.key, error=f"{type(exc).__name__}: {exc}")

    async def _fold(self, resource: _Resource, closed: list[RunInfo], running: list[RunInfo]) -> Ledger:
        ledger, not_before = resource.ledger, resource.not_before
        await self._read_outcomes(uncounted(ledger, closed, self.window, not_before))
        joined = [closed_run(info, self.outcomes.get(info.run_id)) for info in closed]
        new = fold(ledger, joined, now=self.now, window_start=self.window, limits=resource.limits,
                   not_before=not_before, lag=self.lag)
        new = with_running(new, running, not_before)
        generation = int(resource.body["metadata"].get("generation") or 0)
        pause = auto_pause_decision(new, resource.policy.max_consecutive_failures,
                                    resource.policy.max_total_budget_usd, self.now, generation)
        return replace(new, auto_pause=pause) if pause else new

    async def _read_outcomes(self, infos: list[RunInfo]) -> None:
        missing = [info for info in infos if info.run_id not in self.outcomes]
        outcomes = await asyncio.gather(*(self.runs.run_outcome(i.workflow_id, i.run_id) for i in missing))
        for info, outcome in zip(missing, outcomes, strict=True):
            self.outcomes[info.run_id] = outcome
        self.report.new_runs += len(missing)
        self.state.outcomes_read += len(missing)

    async def _write(self, resource: _Resource, closed: list[RunInfo], running: list[RunInfo]
                     ) -> tuple[Mapping[str, Any], Ledger]:
        """Fold again on the freshest status (one GET), patch what changed; the body as now stored."""
        meta = resource.body["metadata"]
        fresh_body = await self.ctx.kube.get_schedule(meta["namespace"], meta["name"])
        self.report.kube_calls += 1
        if fresh_body["metadata"].get("uid") != resource.uid or fresh_body["metadata"].get("deletionTimestamp"):
            raise ScheduleResourceNotFound(f"schedule {resource.key} was replaced or is being deleted")
        fresh = _resource(fresh_body)
        new = await self._fold(fresh, closed, running)
        previous = dict(fresh_body.get("status") or {})
        status = {**previous, **new.to_status()}
        patch = changed_leaves(previous, status)  # leaves only: a concurrent resume keeps its own
        if patch:
            await self.ctx.kube.patch_status(meta["namespace"], meta["name"], patch)
        self.report.kube_calls += 1
        self.report.status_patches += 1
        if not new.differs_from(fresh.ledger):
            self.report.watermark_refreshes += 1
        pause = new.auto_pause
        if pause and not fresh.ledger.auto_pause:
            self.report.auto_paused.append(f"{resource.key}: {pause['reason']}")
            decision(log, "auto-pause", "automatic pause", logging.WARNING, schedule=resource.key,
                     reason=pause["reason"], detail=pause["message"])
            await self.ctx.event(fresh_body, WARNING, pause["reason"], pause["message"])
            self.report.kube_calls += 1
        return {**fresh_body, "status": status}, new

    async def _apply_pause(self, body: Mapping[str, Any], fresh: bool) -> None:
        """Have ``reconcile`` pause Temporal while the status asks for it and Paused does not show it.

        A listed body may predate a ``sundial resume``: it is read again before acting on it.
        """
        if not _pause_pending(body):
            return
        if not fresh:
            meta = body["metadata"]
            body = await self.ctx.kube.get_schedule(meta["namespace"], meta["name"])
            self.report.kube_calls += 1
            if not _pause_pending(body):
                return
        await reconcile(self.ctx, body, self.siblings.get(body["metadata"]["namespace"], []))
        self.report.pauses_applied += 1


def _pause_pending(body: Mapping[str, Any]) -> bool:
    """The status holds an automatic pause that the Paused condition does not show yet."""
    status = body.get("status") or {}
    pause = (status.get("accounting") or {}).get("autoPause")
    if not pause or (body.get("spec") or {}).get("paused"):
        return False  # spec.paused pauses already, with its own reason (UserRequested)
    paused: Mapping[str, Any] = next((c for c in status.get("conditions") or [] if c.get("type") == st.PAUSED), {})
    return not (paused.get("status") == "True" and paused.get("reason") == pause.get("reason"))


async def run_accounting_loop(ctx: OperatorContext, interval_seconds: float, stop_event: asyncio.Event) -> None:
    """Sweep every ``interval_seconds`` until ``stop_event`` is set; a failed sweep is logged, never fatal."""
    state = AccountingState()
    while not stop_event.is_set():
        try:
            report = await account_once(ctx, state)
        except Exception as exc:  # Temporal or Kubernetes away: try again next time
            decision(log, "accounting-sweep-failed", f"run accounting sweep failed: {exc}", logging.WARNING,
                     error=type(exc).__name__)
        else:
            if report.new_runs or report.status_patches or report.failures:
                decision(log, "accounting-sweep", "run accounting sweep done", schedules=report.schedules,
                         closed_listed=report.closed_listed, new_runs=report.new_runs,
                         patches=report.status_patches, auto_paused=len(report.auto_paused) or None,
                         failures=len(report.failures) or None, seconds=round(report.seconds, 3))
        with suppress(TimeoutError):
            await asyncio.wait_for(stop_event.wait(), interval_seconds)
