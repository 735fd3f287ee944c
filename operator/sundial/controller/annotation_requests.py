"""Requests that arrive as annotations: ``sundial resume`` and ``sundial trigger``.

Each request is an annotation value (a timestamp). The operator acts when the value
differs from the one acknowledged in ``status.requests``, then writes the value there:
one action per request, also across operator restarts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sundial.adapters.kube import RESUME_ANNOTATION, TRIGGER_ANNOTATION
from sundial.controller.context import NORMAL, WARNING, OperatorContext
from sundial.controller.reconcile import clear_auto_pause, reconcile
from sundial.errors import TemporalError


def pending(body: Mapping[str, Any], annotation: str, key: str) -> str | None:
    """The annotation's value when the operator has not acknowledged it yet."""
    value = ((body.get("metadata") or {}).get("annotations") or {}).get(annotation)
    acked = ((body.get("status") or {}).get("requests") or {}).get(key)
    return value if value and value != acked else None


async def handle_annotation_requests(
    ctx: OperatorContext, body: Mapping[str, Any], siblings: Sequence[tuple[str, str]]
) -> None:
    resume = pending(body, RESUME_ANNOTATION, "resume")
    if resume is not None:
        await _resume(ctx, body, resume, siblings)
    trigger = pending(body, TRIGGER_ANNOTATION, "trigger")
    if trigger is not None:
        await _trigger(ctx, body, trigger)


async def _resume(ctx: OperatorContext, body: Mapping[str, Any], token: str,
                  siblings: Sequence[tuple[str, str]]) -> None:
    previous = dict(body.get("status") or {})
    status = await clear_auto_pause(ctx, body, previous, "sundial resume", {"requests": {"resume": token}})
    await reconcile(ctx, {**body, "status": status}, siblings)


async def _trigger(ctx: OperatorContext, body: Mapping[str, Any], token: str) -> None:
    previous = dict(body.get("status") or {})
    schedule_id = (previous.get("temporal") or {}).get("scheduleId")
    if previous.get("phase") in ("Invalid", "Deleting", None) or not schedule_id:
        result = f"refused: the schedule is {previous.get('phase') or 'not synced yet'}"
        await ctx.event(body, WARNING, "TriggerRefused", result)
    else:
        try:
            await ctx.temporal.trigger(schedule_id)
        except TemporalError as exc:
            result = f"failed: {exc}"
            await ctx.event(body, WARNING, "TriggerFailed", str(exc))
        else:
            result = "started"
            await ctx.event(body, NORMAL, "Triggered", "started one run now (sundial trigger)")
    meta = body["metadata"]
    await ctx.kube.patch_status(meta["namespace"], meta["name"],
                                {"requests": {"trigger": token, "triggerResult": result}})
