"""When a schedule's total budget is spent, its runs stop: the pause keeps new ones from starting,
and the runs still going are cancelled (each could otherwise spend its whole per-run budget again).

Run accounting calls this after it has written ``status.accounting.autoPause`` (reason
BudgetExhausted) and the reconcile has paused the Temporal schedule; every later sweep
calls it again while the pause holds and runs are open, so a crash in between is repaired.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sundial.controller.context import WARNING, OperatorContext
from sundial.domain import conditions as cond
from sundial.domain.run_records import RunInfo
from sundial.domain.status import Status, status_of
from sundial.ports import RunsPort


def budget_paused(status: Status) -> bool:
    """An automatic pause for BudgetExhausted holds: no run of this schedule may go on spending."""
    pause = (status.get("accounting") or {}).get("autoPause") or {}
    return bool(pause.get("reason") == cond.BUDGET_EXHAUSTED)


def stop_due(status: Status) -> bool:
    """The budget is spent and the status still counts open runs: the next sweep must read this resource
    (an index entry says so; see ``accounting.Tracked.pause_pending``)."""
    return budget_paused(status) and int((status.get("runs") or {}).get("running") or 0) > 0


async def cancel_open_runs(ctx: OperatorContext, runs: RunsPort, body: Mapping[str, Any],
                           running: Sequence[RunInfo], not_before: datetime | None = None) -> int:
    """While a BudgetExhausted pause holds, cancel each open run of this resource (started at or after
    ``not_before``, its creation); a Warning Event names them. Returns how many were cancelled."""
    if not budget_paused(status_of(body)):
        return 0
    mine = [run for run in running if not_before is None or run.started_at >= not_before]
    cancelled = [run for run in mine if await runs.cancel_run(run.workflow_id, run.run_id)]
    if cancelled:
        ids = ", ".join(run.workflow_id for run in cancelled)
        await ctx.event(body, WARNING, "RunsCancelled",
                        f"cancelled {len(cancelled)} open run(s) because the budget is exhausted: {ids}")
    return len(cancelled)
