"""Run accounting: one loop per operator that folds closed runs into each Schedule's status.

A timer per resource would cost a task and Temporal calls per resource per period. One
sweep instead costs, whatever the number of schedules:

* Temporal: one paginated visibility query for this cluster's runs closed since the oldest watermark
  (stuck resources apart: ``accounting_stuck``), one for open runs, one close-event read per *new* run;
* Kubernetes: nothing for a resource with nothing new. What a sweep needs to decide that
  (watermark, counted IDs, open runs, a pending automatic pause: ``Tracked``) comes from a
  operator's index (``tracked``), or else from one LIST. A resource with news is read with one
  GET, folded on that fresh status (an index may lag our own last write, and a concurrent
  ``sundial resume`` must not be overwritten), and patched once, naming only changed leaves.

The watermark (``domain.runs``) is kept in the status, written in the same patch as the counters, so a crash
anywhere means reading again, never counting twice. Between writes an in-memory cursor per resource remembers
how far its runs are known to be counted, so the query window stays ``now - (lag + interval)`` wide even for
schedules that never run; after a restart the first sweep reads back from the oldest stored watermark, which
idle schedules refresh every ``refresh_after`` (at most ``max_refreshes`` writes per sweep). A stale index is
safe: its watermark is older and its counted IDs fewer than the stored ones, so it can only make a sweep read
a resource for nothing, never skip a new run.

An automatic pause (``status.accounting.autoPause``, a Warning Event) is applied by ``reconcile``, again on
every sweep until the Paused condition shows it; while BudgetExhausted holds, open runs are cancelled (``budget_stop``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from sundial.adapters.kube import ScheduleResourceNotFound
from sundial.controller.accounting_index import Tracked as Tracked
from sundial.controller.accounting_index import index_reader as index_reader
from sundial.controller.accounting_index import pause_pending as pause_pending
from sundial.controller.accounting_index import tracked_from_body as tracked_from_body
from sundial.controller.accounting_stuck import StuckBook, list_alone, mark_counted, mark_stuck, windows
from sundial.controller.adoption import list_adopted_runs
from sundial.controller.budget_stop import cancel_open_runs
from sundial.controller.context import WARNING, OperatorContext
from sundial.controller.metrics import METRICS
from sundial.controller.reconcile import reconcile
from sundial.domain import status as st
from sundial.domain.desired import ScheduleIdentity, cluster_prefix
from sundial.domain.models import HistorySpec, PolicySpec
from sundial.domain.run_records import RunInfo, RunOutcome, closed_run, parse_time
from sundial.domain.runs import SAFETY_LAG, HistoryLimits, Ledger, auto_pause_decision, fold, uncounted, with_running
from sundial.domain.validation import Peers
from sundial.errors import TemporalUnavailable
from sundial.logs import decision
from sundial.ports import RunsPort

log = logging.getLogger("sundial.controller.accounting")


@dataclass
class AccountingState:
    """What one operator process remembers between sweeps (lost on restart, by design)."""

    cursors: dict[str, datetime] = field(default_factory=dict)  # uid -> runs closed before are counted
    outcomes_read: int = 0
    stuck: StuckBook = field(default_factory=StuckBook)  # resources failing again and again, by uid


@dataclass
class AccountingReport:
    """What one sweep did and what it cost."""

    schedules: int = 0
    window_start: datetime | None = None
    closed_listed: int = 0
    running: int = 0
    new_runs: int = 0
    status_patches: int = 0
    auto_paused: list[str] = field(default_factory=list)
    pauses_applied: int = 0
    temporal_calls: dict[str, int] = field(default_factory=dict)
    kube_calls: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _rules(spec: Mapping[str, Any]) -> tuple[HistoryLimits, PolicySpec]:
    try:
        history = HistorySpec.model_validate(spec.get("history") or {})
    except ValidationError:
        history = HistorySpec()
    try:
        policy = PolicySpec.model_validate(spec.get("policy") or {})
    except ValidationError:  # an invalid spec still has its runs counted; no auto-pause rules
        policy = PolicySpec(max_consecutive_failures=0)
    return HistoryLimits(history.successful_runs_limit, history.failed_runs_limit), policy


async def account_once(ctx: OperatorContext, state: AccountingState | None = None, *,
                       tracked: Callable[[], Iterable[Tracked]] | None = None, lag: timedelta = SAFETY_LAG,
                       refresh_after: timedelta = timedelta(hours=6), max_refreshes: int = 50,
                       page_size: int = 1000, concurrency: int = 16) -> AccountingReport:
    """One sweep over every Schedule (see the module docstring). Raises TemporalUnavailable."""
    state = state if state is not None else AccountingState()
    started, calls_before = time.monotonic(), _calls(ctx)
    report, now = AccountingReport(), ctx.clock()
    if tracked is None:
        entries = [tracked_from_body(body) for body in await ctx.kube.list_schedules()]
        report.kube_calls += 1
    else:
        entries = list(tracked())
    ours = {t.adopted_id or ScheduleIdentity(ctx.cluster_id, t.namespace, t.name, t.uid).schedule_id: t
            for t in entries if t.uid and not t.deleting}
    report.schedules = len(ours)
    ours, window, alone = windows(ours, state.cursors, state.stuck, now)  # stuck ones: alone, backing off
    if not ours:
        return report
    report.window_start = window
    runs, prefix = ctx.temporal.runs, cluster_prefix(ctx.cluster_id)
    closed: defaultdict[str, list[RunInfo]] = defaultdict(list)
    async for info in runs.list_closed_runs(prefix, window, page_size):
        closed[info.schedule_id].append(info)
        report.closed_listed += 1
    closed.update(await list_alone(runs, ours, alone, page_size))
    running: defaultdict[str, list[RunInfo]] = defaultdict(list)
    async for info in runs.list_running(prefix, page_size):
        running[info.schedule_id].append(info)
        report.running += 1
    await list_adopted_runs(runs, [s for s in ours if not s.startswith(prefix)], window, page_size, closed, running)
    siblings: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)
    for t in ours.values():
        siblings[t.namespace].append((t.created, t.name))
    stale = sorted((t.watermark or now, sid) for sid, t in ours.items() if (t.watermark or now) < now - refresh_after)
    refresh = {sid for _, sid in stale[:max_refreshes]}
    sweep = _Sweep(ctx, state, report, runs, now, alone, lag, siblings, asyncio.Semaphore(concurrency))
    await asyncio.gather(*(sweep.account(t, closed.get(sid, []), running.get(sid, []), sid in refresh)
                           for sid, t in ours.items()))
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
    runs: RunsPort
    now: datetime
    windows: Mapping[str, datetime]  # uid -> where its runs were listed from
    lag: timedelta
    siblings: Mapping[str, list[tuple[str, str]]]
    slots: asyncio.Semaphore
    outcomes: dict[str, RunOutcome | None] = field(default_factory=dict)
    unavailable: TemporalUnavailable | None = None

    async def account(self, t: Tracked, closed: list[RunInfo], running: list[RunInfo], refresh: bool) -> None:
        """Read, fold and patch a resource only when the index says something is new for it."""
        async with self.slots:
            if self.unavailable is not None:
                return  # Temporal is away: the whole sweep is tried again next time
            window = self.windows[t.uid]
            try:
                hint = Ledger(closed_through=t.closed_through, counted_ids=t.counted_ids)
                not_before = parse_time(t.created)
                open_runs = [r for r in running if not_before is None or r.started_at >= not_before]
                if not (refresh or t.pause_pending or len(open_runs) != t.running
                        or uncounted(hint, closed, window, not_before)):
                    moved = fold(hint, [closed_run(i, None) for i in closed], now=self.now, window_start=window,
                                 not_before=not_before, lag=self.lag)
                    self.state.cursors[t.uid] = moved.closed_through or window
                else:
                    self.state.cursors[t.uid] = await self._account(t, closed, running, refresh, window)
            except TemporalUnavailable as exc:
                self.unavailable = exc
            except Exception as exc:  # one resource's failure (a gone resource, a refused write) stops no other
                self.report.failures.append(await mark_stuck(self.ctx, self.state.stuck, t, exc))
            else:
                await mark_counted(self.ctx, self.state.stuck, t)

    async def _account(self, t: Tracked, closed: list[RunInfo], running: list[RunInfo], refresh: bool,
                       window: datetime) -> datetime:
        """GET, fold on the fresh status, patch the changed leaves, pause if due; the new watermark."""
        body = await self.ctx.kube.get_schedule(t.namespace, t.name)
        self.report.kube_calls += 1
        if body["metadata"].get("uid") != t.uid or body["metadata"].get("deletionTimestamp"):
            raise ScheduleResourceNotFound(f"schedule {t.key} was replaced or is being deleted")
        previous, spec = st.status_of(body).copy(), body.get("spec") or {}
        ledger, not_before = Ledger.from_status(previous), parse_time(body["metadata"].get("creationTimestamp"))
        limits, policy = _rules(spec)
        await self._read_outcomes(uncounted(ledger, closed, window, not_before))
        new = fold(ledger, [closed_run(i, self.outcomes.get(i.run_id)) for i in closed], now=self.now,
                   window_start=window, limits=limits, not_before=not_before, lag=self.lag)
        new = with_running(new, running, not_before)
        pause = auto_pause_decision(new, policy.max_consecutive_failures, policy.max_total_budget_usd, self.now,
                                    int(body["metadata"].get("generation") or 0))
        new = replace(new, auto_pause=pause) if pause else new
        status: st.Status = {**previous, **new.to_status()}
        if new.differs_from(ledger) or refresh:
            patch = st.status_patch(previous, status)  # leaves only: a concurrent resume keeps its own
            if patch:  # on the version read: a write in between (e.g. a resume) makes it retry next sweep
                await self.ctx.kube.patch_status(t.namespace, t.name, patch,
                                                 resource_version=body["metadata"].get("resourceVersion"))
                self.report.kube_calls += 1
                self.report.status_patches += 1
            body = {**body, "status": status}
        if pause:
            self.report.auto_paused.append(f"{t.key}: {pause['reason']}")
            decision(log, "auto-pause", "automatic pause", logging.WARNING, schedule=t.key,
                     reason=pause["reason"], detail=pause["message"])
            await self.ctx.event(body, WARNING, pause["reason"], pause["message"])
            self.report.kube_calls += 1
        if pause_pending(body):
            await reconcile(self.ctx, body, Peers(namespace=self.siblings.get(t.namespace, [])))
            self.report.pauses_applied += 1
        await cancel_open_runs(self.ctx, self.runs, body, running, not_before)  # if the budget is spent
        return new.closed_through or window

    async def _read_outcomes(self, infos: list[RunInfo]) -> None:
        missing = [info for info in infos if info.run_id not in self.outcomes]
        outcomes = await asyncio.gather(*(self.runs.run_outcome(i.workflow_id, i.run_id) for i in missing))
        for info, outcome in zip(missing, outcomes, strict=True):
            self.outcomes[info.run_id] = outcome
        self.report.new_runs += len(missing)
        self.state.outcomes_read += len(missing)


async def run_accounting_loop(ctx: OperatorContext, interval_seconds: float, stop_event: asyncio.Event,
                              tracked: Callable[[], Iterable[Tracked]] | None = None,
                              active: Callable[[], Awaitable[bool]] | None = None) -> None:
    """Sweep every ``interval_seconds`` until ``stop_event`` is set; a failed sweep is logged, never fatal.
    A standby peer (``active`` false, ``controller.peering``) skips its turns and starts afresh after."""
    state = AccountingState()
    while not stop_event.is_set():
        if active is None or await active():
            await _account_logged(ctx, state, tracked)
        else:
            state = AccountingState()  # what the active peer counted meanwhile is not in this memory
        with suppress(TimeoutError):
            await asyncio.wait_for(stop_event.wait(), interval_seconds)


async def _account_logged(ctx: OperatorContext, state: AccountingState,
                          tracked: Callable[[], Iterable[Tracked]] | None) -> None:
    try:
        report = await account_once(ctx, state, tracked=tracked)
    except Exception as exc:  # Temporal or Kubernetes away: try again next time
        METRICS.accounting_sweeps.inc(result="error")
        decision(log, "accounting-sweep-failed", f"run accounting sweep failed: {exc}", logging.WARNING,
                 error=type(exc).__name__)
    else:
        METRICS.accounting_sweeps.inc(result="ok")
        if report.new_runs or report.status_patches or report.failures:
            decision(log, "accounting-sweep", "run accounting sweep done", schedules=report.schedules,
                     closed_listed=report.closed_listed, new_runs=report.new_runs,
                     patches=report.status_patches, auto_paused=len(report.auto_paused) or None,
                     failures=len(report.failures) or None, seconds=round(report.seconds, 3))
