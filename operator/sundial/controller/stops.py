"""What the reconcile does when it cannot bring Temporal to the spec: shown, and stopped where it must.

* An exception nobody planned for (a bug, an input no rule foresaw) becomes ``Ready=False``,
  reason ``InternalError`` with its type and message, and a Warning Event, instead of a retry
  loop that only the logs show.
* A schedule over a quota stops running: its Temporal schedule is paused (never deleted).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sundial.controller.context import WARNING, OperatorContext
from sundial.domain import conditions as cond
from sundial.domain import status as st
from sundial.domain.messages import bounded
from sundial.domain.rules import LIMIT_REACHED
from sundial.errors import ScheduleNotFound


async def report_internal_error(ctx: OperatorContext, body: Mapping[str, Any], previous: st.Status,
                                message: str) -> None:
    """Ready=False, reason InternalError, and a Warning Event the first time this message shows."""
    generation = int(body["metadata"].get("generation") or 0)
    ready = st.condition(previous, cond.READY)
    if not (ready and ready.get("reason") == cond.INTERNAL_ERROR and ready.get("message") == message):
        await ctx.event(body, WARNING, cond.INTERNAL_ERROR, message)
    conditions = st.with_condition(st.conditions_of(previous), cond.READY, False, cond.INTERNAL_ERROR,
                                   message, generation, ctx.clock())
    await ctx.write_status(body, previous, {"phase": "Error", "conditions": conditions})


async def pause_over_quota(ctx: OperatorContext, body: Mapping[str, Any], message: str,
                           reason: str = LIMIT_REACHED) -> None:
    """A schedule over a quota (or, ``reason``, over a limit a SchedulePolicy tightened) stops running: its
    Temporal schedule, if it has one, is paused, never deleted (a place may free up; its history stays).
    The next successful reconcile resumes it."""
    identity = ctx.identity(body)
    try:
        observed = await ctx.temporal.describe(identity.schedule_id)
    except ScheduleNotFound:
        return
    note = bounded(f"{reason}: {message}")
    if observed.identity != identity or (observed.paused and observed.note == note):
        return
    await ctx.temporal.pause(identity.schedule_id, note)
    await ctx.event(body, WARNING, "Paused", f"paused the Temporal schedule: {message}")
