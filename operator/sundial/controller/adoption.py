"""Taking over an existing Temporal schedule (``sundial.dev/adopt: <id>``, ``docs/adoption.md``).

Temporal refuses memo updates, and the memo is how Sundial knows a schedule is its own, so
adoption deletes the schedule and creates it again at once under the same ID, with the
identity memo and the spec, between two fire times (never within ``MARGIN`` of one), and
says so in an Event. Runs already started keep running; no second schedule is ever made.
The ID is written into ``status.temporal.scheduleId`` before the delete, so a crash between
delete and create is finished by the next reconcile instead of refused.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import kopf

from sundial.controller.context import NORMAL, OperatorContext
from sundial.domain.adoption import adoption_refusal, recreate_window
from sundial.domain.desired import DesiredSchedule, ObservedSchedule, ScheduleIdentity
from sundial.domain.run_records import RunInfo
from sundial.domain.status import status_of
from sundial.domain.written import WrittenSchedule
from sundial.errors import TemporalRejected
from sundial.ports import RunsPort

#: No delete-and-recreate this close to a fire time (either side).
MARGIN = timedelta(seconds=15)
#: Temporal's limit on IDs; a longer annotation value is refused before any call.
MAX_ID_BYTES = 1000


class AdoptionRefused(TemporalRejected):
    """The schedule named by ``sundial.dev/adopt`` may not be taken over by this resource."""

    reason = "AdoptionRefused"


def _ours(identity: ScheduleIdentity, observed: ObservedSchedule) -> bool:
    owner = observed.identity
    return owner is not None and owner.cluster_id == identity.cluster_id and owner.same_resource_name(identity)


async def take_over(ctx: OperatorContext, body: Mapping[str, Any], identity: ScheduleIdentity,
                    desired: DesiredSchedule, observed: ObservedSchedule | None) -> WrittenSchedule | None:
    """Adopt the schedule if that is still to do; None when the ordinary plan applies."""
    schedule_id = identity.adopted_id
    if not schedule_id or (observed is not None and _ours(identity, observed)):
        return None
    if len(schedule_id.encode()) > MAX_ID_BYTES or not schedule_id.isprintable() or set(schedule_id) & set("'\"\\"):
        raise AdoptionRefused(f"sundial.dev/adopt: {schedule_id[:80]!r} is not a schedule ID Sundial can adopt "
                              f"(printable, no quotes or backslashes, at most {MAX_ID_BYTES} bytes)")
    recorded = (status_of(body).get("temporal") or {}).get("scheduleId")
    if observed is None:
        if recorded != schedule_id:
            raise AdoptionRefused(f"sundial.dev/adopt: Temporal schedule {schedule_id} not found in namespace "
                                  f"{ctx.settings.temporal_namespace}")
        created = await ctx.temporal.create(identity, desired)  # a crash between delete and create
        await ctx.event(body, NORMAL, "Adopted", f"recreated adopted Temporal schedule {schedule_id}")
        return created
    refusal = adoption_refusal(schedule_id, observed.memo, identity)
    if refusal is not None:
        raise AdoptionRefused(f"sundial.dev/adopt: Temporal schedule {schedule_id} cannot be adopted: {refusal}")
    now = ctx.clock()
    wait = recreate_window(observed.next_action_times, now, MARGIN)
    if wait is not None:
        raise kopf.TemporaryError(f"adopting {schedule_id}: waiting {wait.total_seconds():.0f}s for a gap "
                                  "between fire times", delay=wait.total_seconds())
    meta = body["metadata"]
    await ctx.kube.patch_status(meta["namespace"], meta["name"], {"temporal": {"scheduleId": schedule_id}})
    await ctx.temporal.delete(schedule_id)
    created = await ctx.temporal.create(identity, desired)
    after = observed.next_action_times[0].isoformat() if observed.next_action_times else "none"
    await ctx.event(body, NORMAL, "Adopted",
                    f"took over Temporal schedule {schedule_id} under its own ID: recreated at {now.isoformat()} "
                    f"with Sundial's memo (Temporal cannot update a memo), before the next fire time {after}")
    return created


async def list_adopted_runs(runs: RunsPort, adopted: list[str], window: datetime, page_size: int,
                            closed: defaultdict[str, list[RunInfo]], running: defaultdict[str, list[RunInfo]]) -> None:
    """For run accounting: adopted IDs lack the cluster prefix, so two queries each (adoption is rare).

    A query by prefix also matches longer IDs; only the exact schedule's runs are kept.
    """
    for sid in adopted:
        closed[sid] += [info async for info in runs.list_closed_runs(sid, window, page_size) if info.schedule_id == sid]
        running[sid] += [info async for info in runs.list_running(sid, page_size) if info.schedule_id == sid]
