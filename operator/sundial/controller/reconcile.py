"""The reconcile: the only place that orders I/O. Everything it decides comes from the pure core.

    body -> parse + rules (domain.models, domain.rules) -> desired (domain.translate)
         -> observe Temporal (adapters.temporal) -> plan (domain.desired) -> act
         -> status (domain.status) -> patch only what changed (adapters.kube)

Errors decide retries: an invalid spec is permanent until the spec changes (``kopf.PermanentError``
+ ``Stalled``); Temporal unreachable is temporary (backoff + ``Ready=False, TemporalUnavailable``), and so is
Temporal refusing the operator itself (``TemporalUnauthorized``, ``TemporalNamespaceNotFound``): an
admin fixes those, and every schedule recovers by itself.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from datetime import datetime
from typing import Any

import kopf

from sundial.controller.context import NORMAL, WARNING, OperatorContext
from sundial.controller.deletion import release_without_cleanup, skip_temporal_cleanup, wait_for_temporal
from sundial.controller.lifecycle import mark_reconciling, stays_completed, with_completion, with_runs_used
from sundial.controller.metrics import record_reconcile
from sundial.controller.moves import retire_previous_schedule
from sundial.controller.stops import pause_over_quota, report_internal_error
from sundial.controller.sync import InstallConflict, ScheduleConflict, sync_temporal
from sundial.domain import conditions as cond
from sundial.domain import status as st
from sundial.domain.admission import CREATOR_ANNOTATION
from sundial.domain.desired import DesiredSchedule, ObservedSchedule, Recorded, spec_hash
from sundial.domain.models import ScheduleSpec
from sundial.domain.policy import policies_named
from sundial.domain.rules import LIMIT_REACHED
from sundial.domain.status_dicts import AutoPauseDict, TemporalRefDict
from sundial.domain.translate import desired_from_spec, spec_pause
from sundial.domain.validation import Peers, check_spec, quota_problems
from sundial.domain.written import WrittenSchedule, with_next_run
from sundial.errors import (
    ScheduleNotFound,
    SpecInvalid,
    TemporalRejected,
    TemporalUnavailable,
)


def backoff_seconds(retry: int) -> float:
    """1, 2, 4 ... up to 60 seconds between attempts while Temporal is away."""
    return float(min(60, 2 ** min(retry, 6)))


def recorded_from_status(status: st.Status) -> Recorded | None:
    temporal = status.get("temporal") or {}
    spec_hash_, fingerprint = temporal.get("specHash"), temporal.get("fingerprint")
    if spec_hash_ and fingerprint:
        return Recorded(spec_hash=spec_hash_, fingerprint=fingerprint)
    return None


def auto_paused(status: st.Status) -> AutoPauseDict | None:
    """The automatic pause recorded by run accounting, if one is in force."""
    return (status.get("accounting") or {}).get("autoPause") or None


async def clear_auto_pause(
    ctx: OperatorContext, body: Mapping[str, Any], previous: st.Status, why: str,
    extra: st.Status | None = None,
) -> st.Status:
    """Lift an automatic pause and reset the failure streak (a resume, or a spec change).

    A nested merge patch that names only those two keys (plus ``extra``), so counters that run
    accounting writes at the same time are never overwritten with older values.
    """
    patch: st.Status = {"accounting": {"autoPause": None}, "runs": {"consecutiveFailures": 0}, **(extra or {})}
    meta = body["metadata"]
    await ctx.kube.patch_status(meta["namespace"], meta["name"], patch)
    auto = auto_paused(previous)
    if auto:
        await ctx.event(body, NORMAL, "AutoPauseCleared", f"automatic pause ({auto.get('reason')}) lifted: {why}")
    return st.merged_status(previous, patch)


def effective_pause(spec: ScheduleSpec, status: st.Status) -> st.PauseState | None:
    """``spec.paused`` wins; otherwise an automatic pause recorded by run accounting."""
    declared = spec_pause(spec)
    if declared is not None:
        return declared
    auto = auto_paused(status)
    if auto:
        reason = auto.get("reason") or ""
        return st.PauseState(reason, auto.get("message") or reason)
    return None


@record_reconcile  # sundial_reconciles_total{result} and sundial_reconcile_duration_seconds
async def reconcile(ctx: OperatorContext, body: Mapping[str, Any], peers: Peers, retry: int = 0,
                    status_sink: MutableMapping[str, Any] | None = None) -> None:
    """Bring Temporal to the spec, then the status to what Temporal shows. Idempotent.

    An exception nobody planned for (a bug, an input no rule foresaw) is shown, not only logged:
    ``Ready=False``, reason ``InternalError`` with its type and message, and a Warning Event;
    kopf retries it with backoff.
    """
    try:
        await _reconcile(ctx, body, peers, retry, status_sink)
    except (kopf.PermanentError, kopf.TemporaryError):
        raise
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}"
        await report_internal_error(ctx, body, st.status_of(body).copy(), message)
        raise kopf.TemporaryError(f"{cond.INTERNAL_ERROR}: {message}", delay=backoff_seconds(retry)) from exc


async def _reconcile(ctx: OperatorContext, body: Mapping[str, Any], peers: Peers, retry: int,
                     status_sink: MutableMapping[str, Any] | None) -> None:
    meta, previous = body["metadata"], st.status_of(body).copy()
    generation = int(meta.get("generation") or 0)
    now = ctx.clock()
    creator = (meta.get("annotations") or {}).get(CREATOR_ANNOTATION, "")
    limits, admitted = ctx.limits_for(meta["namespace"]), previous.get("observedGeneration") == generation
    try:
        spec = check_spec(body.get("spec") or {}, meta, peers, limits, now, creator,
                          new=not admitted or previous.get("phase") == "Invalid")
    except SpecInvalid as refusal:
        await refuse(ctx, body, previous, refusal.reason, refusal.message)
        over_quota = quota_problems(meta, creator, peers, limits)  # also when listed after other problems
        # an admitted spec that a SchedulePolicy now refuses stops running too (docs/policies.md)
        tightened = admitted and previous.get("phase") != "Invalid" and bool(policies_named(refusal.message))
        if refusal.reason == LIMIT_REACHED or over_quota or tightened:
            try:
                await pause_over_quota(ctx, body, over_quota[0].message if over_quota else refusal.message,
                                       LIMIT_REACHED if over_quota else refusal.reason)
            except TemporalUnavailable as exc:  # the pause must happen: retried with backoff
                raise kopf.TemporaryError(str(exc), delay=backoff_seconds(retry)) from exc
        raise kopf.PermanentError(refusal.message) from refusal
    identity = ctx.identity(body)
    if auto_paused(previous) and previous.get("observedGeneration") not in (None, generation):
        previous = await clear_auto_pause(ctx, body, previous, "the spec changed")
    previous = await mark_reconciling(ctx, body, previous, generation)
    pause = effective_pause(spec, previous)
    desired = with_runs_used(desired_from_spec(spec, identity, ctx.defaults, creator, pause), previous)
    try:
        await retire_previous_schedule(ctx, body, identity, previous)  # settings moved it: never two firing
        if await stays_completed(ctx, body, identity, desired, previous, recorded_from_status(previous),
                                 generation):
            return
        observed, wrote = await sync_temporal(ctx, body, identity, desired, recorded_from_status(previous))
    except TemporalUnavailable as exc:
        await report_unavailable(ctx, body, previous, str(exc), exc.reason)
        raise kopf.TemporaryError(str(exc), delay=backoff_seconds(retry)) from exc
    except InstallConflict as exc:  # an admin's problem, not the spec's: report, touch nothing, look again
        await report_unavailable(ctx, body, previous, str(exc), cond.INSTALL_CONFLICT)
        raise kopf.TemporaryError(str(exc), delay=backoff_seconds(6)) from exc
    except (TemporalRejected, ScheduleConflict) as exc:
        reason = (cond.SCHEDULE_CONFLICT if isinstance(exc, ScheduleConflict)
                  else getattr(exc, "reason", cond.TEMPORAL_REJECTED))
        await refuse(ctx, body, previous, reason, str(exc))
        raise kopf.PermanentError(str(exc)) from exc
    if isinstance(observed, WrittenSchedule):
        observed = with_next_run(desired, observed, now)
    new = st.synced_status(
        previous, generation, temporal_ref(ctx, desired, observed), _first(observed.next_action_times),
        spec.time_zone, pause, now, wrote_to_temporal=wrote,
    )
    new = await with_completion(ctx, body, previous, st.with_run_limit(new, observed.limited,
                                                                       observed.remaining_actions), observed)
    if status_sink is not None and st.never_synced(previous):  # new: kopf sends it with its diff-base, one request
        status_sink.update(st.status_changes(previous, new))
    else:
        await ctx.write_status(body, previous, new)


def temporal_ref(ctx: OperatorContext, desired: DesiredSchedule,
                 observed: ObservedSchedule | WrittenSchedule) -> TemporalRefDict:
    return {
        "namespace": ctx.settings.temporal_namespace, "scheduleId": observed.schedule_id,
        "workflowType": desired.workflow_type, "taskQueue": desired.task_queue,
        "specHash": spec_hash(desired), "fingerprint": observed.fingerprint, "maxRuns": desired.max_runs,
    }


def _first(times: Sequence[datetime]) -> datetime | None:
    return times[0] if times else None


async def refuse(ctx: OperatorContext, body: Mapping[str, Any], previous: st.Status, reason: str,
                 message: str) -> None:
    """Invalid spec or quota: Stalled + Warning Event; the last good Temporal schedule stays as it was."""
    generation = int(body["metadata"].get("generation") or 0)
    new = st.refused_status(previous, generation, reason, message, ctx.clock())
    stalled = st.condition(previous, cond.STALLED)
    if not (stalled and stalled.get("status") == "True" and stalled.get("message") == message):
        await ctx.event(body, WARNING, reason, message)
    await ctx.write_status(body, previous, new)


async def report_unavailable(ctx: OperatorContext, body: Mapping[str, Any], previous: st.Status,
                             message: str, reason: str = cond.TEMPORAL_UNAVAILABLE) -> None:
    """Ready=False with ``reason`` (one Warning Event when the reason first appears); retried later."""
    generation = int(body["metadata"].get("generation") or 0)
    ready = st.condition(previous, cond.READY)
    if not (ready and ready.get("reason") == reason):
        await ctx.event(body, WARNING, reason, message)
    await ctx.write_status(body, previous, st.unavailable_status(previous, generation, message, ctx.clock(),
                                                                 reason))


async def finalize(ctx: OperatorContext, body: Mapping[str, Any], retry: int = 0) -> None:
    """Delete the Temporal schedule before kopf removes the finalizer; wait while Temporal is away.

    While Temporal cannot be reached (or refuses the operator), the deletion waits with the
    reason in status; an admin who cannot wait sets ``sundial.dev/skip-temporal-cleanup: "true"``
    to release the finalizer without touching Temporal (``release_without_cleanup``).
    """
    identity = ctx.identity(body)
    previous = st.status_of(body).copy()
    generation = int(body["metadata"].get("generation") or 0)
    if skip_temporal_cleanup(body):
        await release_without_cleanup(ctx, body, identity.schedule_id)
        return
    await ctx.write_status(body, previous, st.deleting_status(previous, generation, "deleting the Temporal "
                                                                                     "schedule", ctx.clock()))
    try:
        await retire_previous_schedule(ctx, body, identity, previous)
        observed = await ctx.temporal.describe(identity.schedule_id)
    except ScheduleNotFound:
        observed = None
    except TemporalUnavailable as exc:
        raise await wait_for_temporal(ctx, body, previous, exc, backoff_seconds(retry)) from exc
    owner = observed.identity if observed else None
    if observed is not None and owner is not None and owner == identity and not owner.other_install(identity):
        try:
            await ctx.temporal.delete(identity.schedule_id)
        except TemporalUnavailable as exc:
            raise await wait_for_temporal(ctx, body, previous, exc, backoff_seconds(retry)) from exc
        await ctx.event(body, NORMAL, "Deleted", f"deleted Temporal schedule {identity.schedule_id}")
