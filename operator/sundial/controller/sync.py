"""Bring one Temporal schedule to the desired one: observe, plan (``domain.desired.plan``), act.

The I/O half of the reconcile's Temporal step, apart from the status work in ``reconcile.py``.
A resource with nothing recorded creates first and describes only when its ID is taken; no
write is read back (``sundial.domain.written``): the fingerprint recorded is the one computed
from what was sent, which ``tests/integration/test_fingerprint_corpus.py`` holds equal to a
describe's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sundial.controller.adoption import take_over
from sundial.controller.context import NORMAL, WARNING, OperatorContext
from sundial.domain.desired import DesiredSchedule, ObservedSchedule, Plan, Recorded, ScheduleIdentity, plan
from sundial.domain.written import WrittenSchedule
from sundial.errors import ScheduleAlreadyExists, ScheduleNotFound


class ScheduleConflict(Exception):
    """The deterministic ID is held by a Temporal schedule that is not this resource's."""


class InstallConflict(ScheduleConflict):
    """The ID is held by this resource's name in another operator install with the same cluster ID."""


async def sync_temporal(
    ctx: OperatorContext, body: Mapping[str, Any], identity: ScheduleIdentity, desired: DesiredSchedule,
    recorded: Recorded | None, create_first: bool | None = None,
) -> tuple[ObservedSchedule | WrittenSchedule, bool]:
    """Observe, plan, act. Returns what Temporal shows afterwards (or what was just written to it)
    and whether we wrote to it.

    A resource with nothing recorded yet creates first and describes only when the ID is taken
    (to adopt or compare, ``plan``): one call for a new schedule. No write is read back (see
    ``sundial.domain.written``)."""
    temporal, schedule_id = ctx.temporal, identity.schedule_id
    if create_first if create_first is not None else (recorded is None and not identity.adopted_id):
        try:
            return await _create(ctx, body, identity, desired), True
        except ScheduleAlreadyExists:
            pass  # held already: describe and decide, like any resource with a recorded state
    try:
        observed: ObservedSchedule | None = await temporal.describe(schedule_id)
    except ScheduleNotFound:
        observed = None
    adopted = await take_over(ctx, body, identity, desired, observed)  # sundial.dev/adopt, docs/adoption.md
    if adopted is not None:
        return adopted, True
    decided = plan(identity, desired, observed, recorded)
    if decided.conflict:
        raise (InstallConflict if decided.foreign else ScheduleConflict)(decided.conflict)
    if decided.nothing and observed is not None:
        return observed, False
    if decided.recreate:
        await temporal.delete(schedule_id)
    if decided.create or decided.recreate:
        try:
            return await _create(ctx, body, identity, desired), True
        except ScheduleAlreadyExists:  # appeared between describe and create: adopt it
            return await sync_temporal(ctx, body, identity, desired, None, create_first=False)
    if decided.update:
        updated = await temporal.update(schedule_id, desired)
        await _announce_update(ctx, body, decided, desired, observed)
        return updated, True
    if decided.set_paused:
        await temporal.pause(schedule_id, desired.note)
        await ctx.event(body, NORMAL, "Paused", f"paused Temporal schedule: {desired.note}")
    else:
        await temporal.unpause(schedule_id, "resumed by Sundial")
        await ctx.event(body, NORMAL, "Resumed", "resumed Temporal schedule")
    return await temporal.describe(schedule_id), True


async def _create(ctx: OperatorContext, body: Mapping[str, Any], identity: ScheduleIdentity,
                  desired: DesiredSchedule) -> WrittenSchedule:
    created = await ctx.temporal.create(identity, desired)
    await ctx.event(body, NORMAL, "Created", f"created Temporal schedule {identity.schedule_id}")
    return created


async def _announce_update(
    ctx: OperatorContext, body: Mapping[str, Any], decided: Plan, desired: DesiredSchedule,
    observed: ObservedSchedule | None,
) -> None:
    reasons = "; ".join(decided.reasons)
    if any("outside Sundial" in reason for reason in decided.reasons):
        await ctx.event(body, WARNING, "DriftRepaired", f"put the Temporal schedule back to the spec: {reasons}")
    elif any("adopting" in reason for reason in decided.reasons):
        await ctx.event(body, NORMAL, "Adopted", "adopted the existing Temporal schedule and brought it to the spec")
    else:
        await ctx.event(body, NORMAL, "Updated", f"updated Temporal schedule: {reasons}")
    if observed is not None and observed.paused != desired.paused:
        reason = "Paused" if desired.paused else "Resumed"
        await ctx.event(body, NORMAL, reason, desired.note or reason.lower())
