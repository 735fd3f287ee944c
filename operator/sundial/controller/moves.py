"""A schedule whose ID or Temporal namespace changed with the operator's settings.

The schedule ID is derived from ``SUNDIAL_CLUSTER_ID`` and lives in
``SUNDIAL_TEMPORAL_NAMESPACE``. Change either and the reconcile derives a new place for
every resource; the schedule at the old place would keep firing next to the new one.
``status.temporal`` records where the last write went, so before anything is created at
the new place the old schedule is deleted (a memo is write-once and a schedule cannot
move between namespaces, so adopting it is not possible). Only a schedule whose memo
names this very resource (namespace, name and uid) is deleted; anything else at the old
place is left alone and reported. If the old place cannot be reached, the reconcile
waits (``TemporalUnavailable``): never two schedules firing. An old Temporal namespace that
no longer exists holds nothing that fires: it is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sundial.controller.context import NORMAL, WARNING, OperatorContext
from sundial.domain.desired import ScheduleIdentity
from sundial.domain.status import Status
from sundial.errors import ScheduleNotFound, TemporalNamespaceNotFound


def previous_place(status: Status, default_namespace: str) -> tuple[str, str] | None:
    """(Temporal namespace, schedule ID) that ``status.temporal`` records, if any."""
    temporal = status.get("temporal") or {}
    schedule_id = temporal.get("scheduleId")
    if not isinstance(schedule_id, str) or not schedule_id:
        return None
    namespace = temporal.get("namespace")
    return (namespace if isinstance(namespace, str) and namespace else default_namespace), schedule_id


async def retire_previous_schedule(ctx: OperatorContext, body: Mapping[str, Any], identity: ScheduleIdentity,
                                   status: Status) -> None:
    """Delete this resource's schedule at the place ``status.temporal`` names, when that place moved."""
    current = ctx.settings.temporal_namespace
    place = previous_place(status, current)
    if place is None or place == (current, identity.schedule_id):
        return
    namespace, schedule_id = place
    gateway = ctx.temporal if namespace == current else ctx.temporal.in_namespace(namespace)
    try:
        observed = await gateway.describe(schedule_id)
    except ScheduleNotFound:
        return
    except TemporalNamespaceNotFound:
        if namespace == current:
            raise
        return  # the old Temporal namespace is gone, and with it anything that could fire there
    theirs = observed.identity
    if theirs is None or theirs.other_install(identity) or (theirs.namespace, theirs.name, theirs.uid) != (
            identity.namespace, identity.name, identity.uid):
        await ctx.event(body, WARNING, "PreviousScheduleNotOurs",
                        f"status names Temporal schedule {schedule_id} (namespace {namespace}) from before a "
                        f"settings change, but its memo names another resource: left alone")
        return
    await gateway.delete(schedule_id)
    await ctx.event(body, NORMAL, "PreviousScheduleDeleted",
                    f"deleted Temporal schedule {schedule_id} (namespace {namespace}): the operator's cluster ID "
                    f"or Temporal namespace changed, and its new schedule is {identity.schedule_id} (namespace "
                    f"{current})")
