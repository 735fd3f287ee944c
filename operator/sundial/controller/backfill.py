"""``sundial backfill`` / ``sundial.dev/backfill-requested``: run a range of missed times once.

The operator is the only writer to Temporal: the CLI (or anyone allowed to annotate the
Schedule) writes the request, the operator checks it against the spec and the budget
(``sundial.domain.backfill``), asks Temporal to backfill, and acknowledges the value in
``status.requests.backfill`` with the outcome in ``backfillResult``: one action per value,
also across restarts. The runs carry TemporalScheduledById, so run accounting counts them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sundial.adapters.kube import BACKFILL_ANNOTATION
from sundial.controller.acted import ACTED
from sundial.controller.context import NORMAL, WARNING, OperatorContext
from sundial.domain.backfill import BackfillInvalid, parse_request, plan_for_resource
from sundial.domain.status import status_of
from sundial.errors import TemporalError


def pending_backfill(body: Mapping[str, Any]) -> str | None:
    """The annotation's value when the operator has not acknowledged it yet."""
    value = ((body.get("metadata") or {}).get("annotations") or {}).get(BACKFILL_ANNOTATION)
    acked = (status_of(body).get("requests") or {}).get("backfill")
    return str(value) if value and value != acked else None


async def handle_backfill_request(ctx: OperatorContext, body: Mapping[str, Any]) -> None:
    """Act on a pending backfill request, if there is one and this process has not taken it already."""
    value = pending_backfill(body)
    if value is not None and ACTED.claim(body, "backfill", value):
        await handle_backfill(ctx, body, value)


async def handle_backfill(ctx: OperatorContext, body: Mapping[str, Any], value: str) -> None:
    """Act on one backfill annotation value and acknowledge it (refused, failed or started)."""
    try:
        request = parse_request(value)
        planned = plan_for_resource(request, body, ctx.clock())
    except BackfillInvalid as exc:
        result = f"refused: {exc}"
        await ctx.event(body, WARNING, "BackfillRefused", str(exc))
    else:
        schedule_id = str((status_of(body).get("temporal") or {}).get("scheduleId"))
        span = f"{request.start.isoformat()} to {request.end.isoformat()}"
        try:
            if planned.runs:
                await ctx.temporal.backfill(schedule_id, planned.send_start, planned.send_end, planned.overlap)
        except TemporalError as exc:
            result = f"failed: {exc}"
            await ctx.event(body, WARNING, "BackfillFailed", f"{span}: {exc}")
        else:
            result = f"started {len(planned.runs)} runs"
            await ctx.event(body, NORMAL, "Backfilled", f"started {len(planned.runs)} runs for {span} "
                                                        f"(overlap {planned.overlap}, sundial backfill)")
    meta = body["metadata"]
    await ctx.kube.patch_status(meta["namespace"], meta["name"],
                                {"requests": {"backfill": value, "backfillResult": result}})
