"""Run accounting as a pure fold: closed runs in, the resource's run counters and watermark out.

The operator learns about runs from Temporal's visibility store, which is eventually
consistent and may forget runs (retention), and it may crash between reading a run and
writing the status. The counters must still only grow and count every run exactly once.
So the ledger keeps, in ``status.accounting`` and written in the same status patch as the
counters, a watermark and the IDs counted above it:

* ``closedThrough`` (W): every run of this resource that closed before W has been counted.
* ``countedIds`` (C): the run IDs closed at or after W that have been counted, each
  stored as ``<runId>@<close time>`` (older statuses hold bare IDs; both are read).

A run is counted iff it closed at or after W and its ID is not in C. After a fold, W moves
to ``now - SAFETY_LAG`` (never back) and C keeps every ID whose close time is at or after
the new W, *including IDs this listing did not show*: an eventually consistent listing
may miss a run once, and it must not be counted again when it shows up next time. An ID
is dropped only when the watermark has passed its close time (bare IDs, whose close time
is unknown, are kept while listed, as before).
Moving W is safe when every run that closed before ``now - SAFETY_LAG`` is already visible
and in the fold's input: the lag covers visibility delay and clock skew between operator
and Temporal. A crash before the patch loses nothing (the old W and C are still stored,
the runs are read again); a crash after it recounts nothing. Counters never shrink: runs
that Temporal's retention deletes later were counted when seen.

Outcomes (Temporal's close status): ``COMPLETED`` succeeds; ``FAILED``, ``TIMED_OUT``,
``TERMINATED`` and ``CANCELED`` count as failed runs (a run that did not deliver).
``total`` is ``succeeded + failed``: closed runs; open ones are in ``running``. A failed
attempt that the workflow retry policy tries again (and a workflow that continued as new)
is not a run of its own: its cost is counted, its outcome is the last attempt's.
Consecutive failures follow close time; a success resets them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Final, cast

from sundial.domain.conditions import BUDGET_EXHAUSTED, CONSECUTIVE_FAILURES
from sundial.domain.run_records import COMPLETED, ClosedRun, RunInfo, parse_time, rfc3339_or_none, run_record
from sundial.domain.status import Status, rfc3339
from sundial.domain.status_dicts import AutoPauseDict, CostStatusDict, RunRecordDict, RunWatermarkDict

#: How far behind "now" the watermark stays: longer than visibility delay plus clock skew.
SAFETY_LAG: Final = timedelta(minutes=2)
_MICRO: Final = 1_000_000


@dataclass(frozen=True)
class Ledger:
    """The accounting part of a resource's status, parsed."""

    total: int = 0
    succeeded: int = 0
    failed: int = 0
    running: int = 0
    consecutive_failures: int = 0
    cost_micros: int = 0  # integer micro-dollars, so sums do not depend on the order of addition
    last_run_usd: float | None = None
    last_run_time: datetime | None = None
    last_successful_time: datetime | None = None
    recent_runs: tuple[RunRecordDict, ...] = ()
    closed_through: datetime | None = None
    counted_ids: frozenset[str] = frozenset()
    auto_pause: AutoPauseDict | None = None
    #: The newest counted failure's error, from this fold only (not stored: ``recentRuns`` may keep none).
    last_error: str | None = field(default=None, compare=False)
    counted_closed: tuple[tuple[str, datetime], ...] = ()  # close times of counted IDs, where known

    @property
    def total_usd(self) -> float:
        return self.cost_micros / _MICRO

    @classmethod
    def from_status(cls, status: Status) -> Ledger:
        runs, cost = status.get("runs") or {}, status.get("cost") or {}
        accounting = status.get("accounting") or {}
        counted = [str(entry) for entry in accounting.get("countedIds") or ()]
        last_usd = cost.get("lastRunUSD")
        return cls(
            total=int(runs.get("total") or 0), succeeded=int(runs.get("succeeded") or 0),
            failed=int(runs.get("failed") or 0), running=int(runs.get("running") or 0),
            consecutive_failures=int(runs.get("consecutiveFailures") or 0),
            cost_micros=round(float(cost.get("totalUSD") or 0) * _MICRO),
            last_run_usd=float(last_usd) if last_usd is not None else None,
            last_run_time=parse_time(status.get("lastRunTime")),
            last_successful_time=parse_time(status.get("lastSuccessfulTime")),
            recent_runs=tuple(r.copy() for r in status.get("recentRuns") or ()),
            closed_through=parse_time(accounting.get("closedThrough")),
            counted_ids=frozenset(entry.partition("@")[0] for entry in counted),
            counted_closed=tuple(sorted(_closed_entries(counted))),
            auto_pause=auto.copy() if (auto := accounting.get("autoPause")) else None,
        )

    def to_status(self) -> Status:
        """The top-level status fields this ledger owns (whole objects: the status patch merges by key)."""
        cost: CostStatusDict = {"totalUSD": self.total_usd}
        if self.last_run_usd is not None:
            cost["lastRunUSD"] = self.last_run_usd
        accounting: RunWatermarkDict = {"closedThrough": rfc3339_or_none(self.closed_through),
                                        "countedIds": self.counted_entries()}
        if self.auto_pause:
            accounting["autoPause"] = self.auto_pause
        status: Status = {
            "runs": {"total": self.total, "succeeded": self.succeeded, "failed": self.failed,
                     "running": self.running, "consecutiveFailures": self.consecutive_failures},
            "cost": cost, "recentRuns": list(self.recent_runs), "accounting": accounting,
        }
        if self.last_run_time is not None:
            status["lastRunTime"] = rfc3339(self.last_run_time)
        if self.last_successful_time is not None:
            status["lastSuccessfulTime"] = rfc3339(self.last_successful_time)
        return status

    def counted_entries(self) -> list[str]:
        """``countedIds`` as stored: ``<runId>@<close time>`` where the close time is known."""
        closed = dict(self.counted_closed)
        return sorted(f"{i}@{rfc3339(closed[i])}" if i in closed else i for i in self.counted_ids)

    def differs_from(self, before: Ledger) -> bool:
        """Whether anything a user sees changed, or a run was counted (watermark moves alone don't count)."""
        if replace(self, closed_through=None, counted_ids=frozenset(), counted_closed=()) != replace(
                before, closed_through=None, counted_ids=frozenset(), counted_closed=()):
            return True
        return not self.counted_ids <= before.counted_ids


@dataclass(frozen=True)
class HistoryLimits:
    """``spec.history``: how many successful and failed runs ``recentRuns`` keeps."""

    successful: int = 3
    failed: int = 3


def fold(
    ledger: Ledger, runs: Iterable[ClosedRun], *, now: datetime, window_start: datetime,
    limits: HistoryLimits = HistoryLimits(), not_before: datetime | None = None, lag: timedelta = SAFETY_LAG,
) -> Ledger:
    """Count the runs not counted yet, then move the watermark to ``now - lag``.

    ``runs`` must hold every visible run of this resource that closed at or after
    ``window_start`` (more is fine, duplicates too). ``not_before`` (the resource's
    creation) leaves out runs started before it: a deleted and recreated resource of the
    same name shares the schedule ID, not the runs.
    """
    new_watermark = max(watermark(ledger, window_start, not_before), _floor(now - lag))
    if window_start > new_watermark:
        raise ValueError(f"runs listed from {window_start} cannot move the watermark to {new_watermark}")
    unique = {run.info.run_id: run for run in runs}
    new_ids = {info.run_id for info in uncounted(ledger, (r.info for r in unique.values()), window_start,
                                                 not_before)}
    fresh = sorted((unique[i] for i in new_ids), key=lambda run: (run.closed_at, run.info.run_id))
    counted = ledger
    for run in fresh:
        counted = _count(counted, run)
    # nulls left out: the CRD's schema would prune them anyway, and stored == computed keeps writes idle
    records = [cast(RunRecordDict, {k: v for k, v in run_record(run).items() if v is not None})
               for run in fresh if run.final]
    closed = {**dict(ledger.counted_closed), **{i: run.closed_at for i, run in unique.items()}}
    kept = {i: at for i, at in closed.items() if at >= new_watermark and (i in unique or i in ledger.counted_ids)}
    return replace(
        counted,
        recent_runs=bounded_history([*reversed(records), *ledger.recent_runs], limits),
        closed_through=new_watermark,
        counted_ids=frozenset(kept),
        counted_closed=tuple(sorted(kept.items())),
    )


def _closed_entries(entries: Iterable[str]) -> Iterable[tuple[str, datetime]]:
    """(run ID, close time) of the stored ``<runId>@<close time>`` entries (bare IDs have none)."""
    for entry in entries:
        run_id, _, when = entry.partition("@")
        closed = parse_time(when) if when else None
        if closed is not None:
            yield run_id, closed


def watermark(ledger: Ledger, window_start: datetime, not_before: datetime | None = None) -> datetime:
    """The stored watermark; before the first fold, the resource's creation (or the window)."""
    return ledger.closed_through or not_before or window_start


def uncounted(ledger: Ledger, runs: Iterable[RunInfo], window_start: datetime,
              not_before: datetime | None = None) -> list[RunInfo]:
    """The closed runs a fold would count now: closed at or after the watermark, not counted yet,
    started after ``not_before`` (those whose outcome must be read)."""
    mark = watermark(ledger, window_start, not_before)
    return [info for info in runs
            if info.closed_at is not None and info.closed_at >= mark and info.run_id not in ledger.counted_ids
            and (not_before is None or info.started_at >= not_before)]


def _count(ledger: Ledger, run: ClosedRun) -> Ledger:
    counted = replace(ledger, cost_micros=ledger.cost_micros + round((run.cost_usd or 0.0) * _MICRO),
                      last_run_time=_latest(ledger.last_run_time, run.info.started_at))
    if not run.final:
        return counted
    counted = replace(counted, total=counted.total + 1, last_run_usd=run.cost_usd or 0.0)
    if run.succeeded:
        return replace(counted, succeeded=counted.succeeded + 1, consecutive_failures=0, last_error=None,
                       last_successful_time=_latest(counted.last_successful_time, run.closed_at))
    return replace(counted, failed=counted.failed + 1, consecutive_failures=counted.consecutive_failures + 1,
                   last_error=run.error or f"the run ended {run.status}")


def with_running(ledger: Ledger, running: Iterable[RunInfo], not_before: datetime | None = None) -> Ledger:
    """The open runs: their number, and the newest start as ``lastRunTime``."""
    mine = [run for run in running if not_before is None or run.started_at >= not_before]
    last = ledger.last_run_time
    for run in mine:
        last = _latest(last, run.started_at)
    return replace(ledger, running=len(mine), last_run_time=last)


def bounded_history(
    records: Iterable[RunRecordDict], limits: HistoryLimits
) -> tuple[RunRecordDict, ...]:
    """Newest first; at most ``limits.successful`` completed and ``limits.failed`` other runs."""
    unique = {str(r.get("runId") or r.get("workflowId")): r.copy() for r in records}
    newest = sorted(unique.values(), reverse=True, key=lambda r: (
        parse_time(r.get("closedAt")) or datetime.min.replace(tzinfo=UTC),
        str(r.get("startedAt") or ""), str(r.get("workflowId")), str(r.get("runId"))))
    kept: list[RunRecordDict] = []
    successes = failures = 0
    for record in newest:
        if record.get("status") == COMPLETED:
            successes += 1
            if successes <= limits.successful:
                kept.append(record)
        else:
            failures += 1
            if failures <= limits.failed:
                kept.append(record)
    return tuple(kept)


def auto_pause_decision(
    ledger: Ledger, max_consecutive_failures: int, max_total_budget_usd: float | None, now: datetime,
    generation: int | None = None,
) -> AutoPauseDict | None:
    """``status.accounting.autoPause`` to set now, or ``None`` (also when one is in force already).

    Consecutive failures are checked first. The budget is a standing condition: a resume
    alone does not lift it while ``cost.totalUSD`` still reaches ``policy.maxTotalBudgetUSD``;
    raising or removing that cap (a spec change) does. ``generation`` is the spec's
    ``metadata.generation``: a later one is a spec change, which counts as a resume.
    """
    if ledger.auto_pause:
        return None
    if max_consecutive_failures > 0 and ledger.consecutive_failures >= max_consecutive_failures:
        reason = CONSECUTIVE_FAILURES
        last_error = ledger.last_error or next(
            (r.get("error") for r in ledger.recent_runs if r.get("status") != COMPLETED), None)
        message = (f"{ledger.consecutive_failures} failed runs in a row (policy.maxConsecutiveFailures is "
                   f"{max_consecutive_failures})" + (f"; last error: {_cut(last_error)}" if last_error else ""))
    elif max_total_budget_usd is not None and ledger.total_usd >= max_total_budget_usd:
        reason = BUDGET_EXHAUSTED
        message = (f"runs have cost ${ledger.total_usd:.4f} in total, reaching policy.maxTotalBudgetUSD "
                   f"${max_total_budget_usd:.4f}")
    else:
        return None
    decision: AutoPauseDict = {"reason": reason, "message": message[:1000], "since": rfc3339(now)}
    if generation is not None:
        decision["generation"] = generation
    return decision


def _cut(text: str, limit: int = 300) -> str:
    """An error on one line, at most ``limit`` characters: the Paused condition shows it."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def _latest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate > current else current
