"""Requests that arrive as annotations: ``sundial resume`` (``--probe``: ``controller.probes``) and ``sundial trigger``.

Each request is an annotation value (a timestamp). The operator acts when the value
differs from the one acknowledged in ``status.requests``, then writes the value there:
one action per request, also across operator restarts. Within one process the claim in
``controller.acted`` also holds while the acknowledgement is on its way (a stale body, a retry).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sundial.adapters.kube import RESUME_ANNOTATION, RESUME_REASON_ANNOTATION, TRIGGER_ANNOTATION
from sundial.controller.acted import ACTED
from sundial.controller.backfill import handle_backfill_request, pending_backfill
from sundial.controller.context import NORMAL, WARNING, OperatorContext
from sundial.controller.probes import pending_probe, start_probe
from sundial.controller.reconcile import auto_paused, clear_auto_pause, reconcile
from sundial.domain.messages import bounded
from sundial.domain.retry import TRIGGER_WAITING
from sundial.domain.run_records import parse_time
from sundial.domain.status import Status, rfc3339, status_of
from sundial.domain.status_dicts import RequestAcksDict
from sundial.domain.validation import Peers
from sundial.errors import TemporalError, TemporalOutcomeUnknown, TemporalUnavailable


def pending(body: Mapping[str, Any], annotation: str, key: str) -> str | None:
    """The annotation's value when the operator has not acknowledged it yet."""
    value = ((body.get("metadata") or {}).get("annotations") or {}).get(annotation)
    acked = (status_of(body).get("requests") or {}).get(key)
    return value if value and value != acked else None


def request_pending(body: Mapping[str, Any], **_: Any) -> bool:
    """Some request annotation is not acknowledged yet: kopf's ``when=`` filter of the event handler,
    so the handler is not invoked for the other events of a resource (most of them)."""
    return any((pending(body, RESUME_ANNOTATION, "resume"), pending_probe(body),
                pending(body, TRIGGER_ANNOTATION, "trigger"), pending_backfill(body)))


async def handle_annotation_requests(ctx: OperatorContext, body: Mapping[str, Any], peers: Peers) -> None:
    resume = pending(body, RESUME_ANNOTATION, "resume")
    if resume is not None and ACTED.claim(body, "resume", resume):
        try:
            await _resume(ctx, body, resume, peers)
        except BaseException:
            ACTED.release(body, "resume", resume)  # resuming twice starts nothing: the next sight retries
            raise
    probe = pending_probe(body)
    if probe is not None:  # its own task: a probe run takes as long as a run
        start_probe(ctx, body, probe, resume_reason(body), peers)
    trigger = pending(body, TRIGGER_ANNOTATION, "trigger")
    if trigger is not None and ACTED.claim(body, "trigger", trigger):  # the handler and the retry: one run
        await _trigger(ctx, body, trigger)
    await handle_backfill_request(ctx, body)  # sundial.dev/backfill-requested, if pending


def resume_reason(body: Mapping[str, Any]) -> str:
    """``sundial.dev/resume-reason`` on one line, at most 1000 characters (anyone may write it)."""
    reason = ((body.get("metadata") or {}).get("annotations") or {}).get(RESUME_REASON_ANNOTATION) or ""
    return " ".join(str(reason).split())[:1000]


async def _resume(ctx: OperatorContext, body: Mapping[str, Any], token: str, peers: Peers) -> None:
    """Clear an automatic pause; the reason goes to the Event and (``requests.resumeNote``) the
    Paused condition's message."""
    previous = status_of(body).copy()
    reason = resume_reason(body)
    why = "sundial resume" + (f": {reason}" if reason else "")
    if not auto_paused(previous):  # clear_auto_pause posts AutoPauseCleared with ``why`` otherwise
        await ctx.event(body, NORMAL, "ResumeRequested", why)
    note = f"resumed at {token}: {reason}" if reason else ""
    status = await clear_auto_pause(ctx, body, previous, why, {"requests": {"resume": token, "resumeNote": note}})
    await reconcile(ctx, {**body, "status": status}, peers)


def trigger_refusal(status: Status, now: datetime, interval_minutes: int) -> str | None:
    """Why a trigger may not start a run now, or None (pure).

    Not while an automatic pause holds (a spent budget or a failure streak is not lifted by a
    trigger: ``sundial resume`` is the way), and at most one per ``interval_minutes``, counted from
    the last trigger that started a run; the run's cost is counted like any other's.
    """
    auto = (status.get("accounting") or {}).get("autoPause")
    if auto:
        return (f"refused: the schedule is paused automatically ({auto.get('reason')}); "
                "`sundial resume` lifts the pause")
    last = parse_time((status.get("requests") or {}).get("lastTriggerAt"))
    if last is not None and interval_minutes > 0 and now - last < timedelta(minutes=interval_minutes):
        return (f"refused: a trigger started a run at {rfc3339(last)}; at most one per {interval_minutes} min "
                "(SUNDIAL_TRIGGER_MIN_INTERVAL_MINS)")
    return None


async def _trigger(ctx: OperatorContext, body: Mapping[str, Any], token: str) -> None:
    previous = status_of(body).copy()
    schedule_id = (previous.get("temporal") or {}).get("scheduleId")
    interval = ctx.settings.trigger_min_interval_minutes
    interval = ctx.settings.min_interval_minutes if interval is None else interval
    refusal = trigger_refusal(previous, ctx.clock(), interval)
    started: RequestAcksDict = {}
    meta = body["metadata"]
    if previous.get("phase") in ("Invalid", "Deleting", None) or not schedule_id:
        result = f"refused: the schedule is {previous.get('phase') or 'not synced yet'}"
        await ctx.event(body, WARNING, "TriggerRefused", result)
    elif refusal is not None:
        result = refusal
        await ctx.event(body, WARNING, "TriggerRefused", result)
    else:
        try:
            await ctx.temporal.trigger(schedule_id)
        except TemporalOutcomeUnknown as exc:  # perhaps started: a second try could make two runs
            result = f"unknown: {exc}; the run may have started (see sundial runs), trigger again if not"
            await ctx.event(body, WARNING, "TriggerOutcomeUnknown", result)
        except TemporalUnavailable as exc:
            ACTED.release(body, "trigger", token)  # not started: the sweeper's retry may act
            await _trigger_waits(ctx, body, previous, str(exc))
            return
        except TemporalError as exc:
            result = f"failed: {exc}"
            await ctx.event(body, WARNING, "TriggerFailed", str(exc))
        else:
            result, started = "started", {"lastTriggerAt": rfc3339(ctx.clock())}
            await ctx.event(body, NORMAL, "Triggered", "started one run now (sundial trigger)")
    await ctx.kube.patch_status(meta["namespace"], meta["name"],
                                {"requests": {"trigger": token, "triggerResult": bounded(result), **started}})


async def _trigger_waits(ctx: OperatorContext, body: Mapping[str, Any], previous: Status,
                         message: str) -> None:
    """Temporal is away: the request stays unacknowledged and the sweeper retries it with backoff
    (``sundial.domain.retry``). Written (and announced) once, so the wait makes no event storm."""
    meta = body["metadata"]
    waiting = f"{TRIGGER_WAITING}: Temporal unavailable, retrying"
    if (previous.get("requests") or {}).get("triggerResult") == waiting:
        return
    await ctx.event(body, WARNING, "TriggerDelayed", f"the run will start once Temporal answers: {message}")
    await ctx.kube.patch_status(meta["namespace"], meta["name"], {"requests": {"triggerResult": waiting}})
