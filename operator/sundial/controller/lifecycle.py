"""Phase transitions around the reconcile: ``Reconciling=True`` (and ``Pending`` before the first
sync) before Temporal is touched, ``Completed`` once the Temporal schedule can never fire again.

The decisions are pure (``sundial.domain.status``, ``sundial.domain.completion``); this module
does the few reads and writes around them for the reconcile. See ``docs/lifecycle.md``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sundial.controller.context import NORMAL, OperatorContext
from sundial.domain import conditions as cond
from sundial.domain import status as st
from sundial.domain.completion import end_reason
from sundial.domain.desired import DesiredSchedule, ObservedSchedule, Recorded, ScheduleIdentity, spec_hash
from sundial.domain.written import WrittenSchedule
from sundial.errors import ScheduleNotFound


def with_runs_used(desired: DesiredSchedule, previous: st.Status) -> DesiredSchedule:
    """Carry the runs used under spec.maxRuns (from the last sync) into what is written to Temporal."""
    base = (previous.get("temporal") or {}).get("maxRuns")
    remaining = previous.get("remainingRuns")
    used = max(0, base - remaining) if isinstance(base, int) and isinstance(remaining, int) else 0
    return dataclasses.replace(desired, runs_used=used, limit_base=base if isinstance(base, int) else None)


async def stays_completed(ctx: OperatorContext, body: Mapping[str, Any], identity: ScheduleIdentity,
                          desired: DesiredSchedule, previous: st.Status, recorded: Recorded | None,
                          generation: int) -> bool:
    """A Completed schedule whose Temporal schedule is gone (Temporal removes ended schedules in its
    own time) is left so, unless the spec changed what is written to Temporal (e.g. a later endAt)."""
    if previous.get("phase") != cond.COMPLETED or recorded is None or recorded.spec_hash != spec_hash(desired):
        return False
    try:
        await ctx.temporal.describe(identity.schedule_id)
    except ScheduleNotFound:
        await ctx.write_status(body, previous, st.completed_kept(previous, generation, ctx.clock()))
        return True
    return False


async def with_completion(ctx: OperatorContext, body: Mapping[str, Any], previous: st.Status, new: st.Status,
                          observed: ObservedSchedule | WrittenSchedule) -> st.Status:
    """``Completed`` when the Temporal schedule can never fire again; one Normal Event when it ends."""
    why = end_reason(observed, ctx.clock())
    if why is None:
        return new
    if previous.get("phase") != cond.COMPLETED:
        await ctx.event(body, NORMAL, cond.COMPLETED, f"the schedule will not fire again: {why}")
    return st.completed_status(new, f"completed: {why}", int(new.get("observedGeneration") or 0), ctx.clock())


async def mark_reconciling(ctx: OperatorContext, body: Mapping[str, Any], previous: st.Status,
                           generation: int) -> st.Status:
    """Before Temporal is touched for a new generation, say so (Reconciling=True; Pending when never
    synced), so ``kubectl wait`` and GitOps tools never read the old Ready as the new spec's."""
    if previous.get("observedGeneration") == generation and previous.get("phase"):
        return previous
    new: st.Status = {**previous, **st.reconciling_status(previous, generation, ctx.clock())}
    await ctx.write_status(body, previous, new)
    return new
