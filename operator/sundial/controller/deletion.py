"""When a deletion cannot reach Temporal: say why, wait, and let an admin release it.

A ``Schedule`` is deleted behind the finalizer ``sundial.dev/temporal-schedule`` so its
Temporal schedule goes first (``reconcile.finalize``). While Temporal is away, or refuses
the operator (credentials, a missing Temporal namespace), the deletion waits with the
reason in status and retries with backoff; that also blocks deleting the Kubernetes
namespace. An admin who cannot wait sets ``sundial.dev/skip-temporal-cleanup: "true"``:
the finalizer is released without any Temporal call, a Warning Event says which schedule
may be left behind, and the orphan sweep (``SUNDIAL_ORPHAN_POLICY``) finds it once
Temporal answers again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from sundial.adapters.kube import SKIP_CLEANUP_ANNOTATION
from sundial.controller.context import WARNING, OperatorContext
from sundial.domain import status as st
from sundial.errors import TemporalUnavailable


def skip_temporal_cleanup(body: Mapping[str, Any]) -> bool:
    """The admin's escape hatch: ``sundial.dev/skip-temporal-cleanup: "true"`` on the resource."""
    annotations = body["metadata"].get("annotations") or {}
    return str(annotations.get(SKIP_CLEANUP_ANNOTATION, "")).strip().lower() == "true"


async def release_without_cleanup(ctx: OperatorContext, body: Mapping[str, Any], schedule_id: str) -> None:
    """Let the finalizer go, and say what may be left in Temporal."""
    await ctx.event(body, WARNING, "TemporalCleanupSkipped",
                    f"{SKIP_CLEANUP_ANNOTATION} is set: released without touching Temporal; the schedule "
                    f"{schedule_id} may remain there until the orphan sweep (SUNDIAL_ORPHAN_POLICY) finds it")


async def wait_for_temporal(ctx: OperatorContext, body: Mapping[str, Any], previous: st.Status,
                            exc: TemporalUnavailable, delay: float) -> kopf.TemporaryError:
    """The deletion waits: say why in status (and how to release it); the error to raise."""
    generation = int(body["metadata"].get("generation") or 0)
    message = (f"waiting for Temporal to delete the schedule ({exc.reason}): {exc}; set the annotation "
               f"{SKIP_CLEANUP_ANNOTATION}=true to release it without Temporal")
    written: st.Status = {**previous, **st.deleting_status(previous, generation, "deleting the Temporal schedule",
                                                ctx.clock())}
    await ctx.write_status(body, written, st.deleting_status(previous, generation, message, ctx.clock()))
    return kopf.TemporaryError(message, delay=delay)
