"""kopf handlers: thin. Each one hands the resource to ``sundial.reconcile``.

kopf is edge-triggered, so create, spec updates and resume all call one idempotent
``reconcile`` that compares against what Temporal actually has. Deletion runs behind
the finalizer ``sundial.dev/temporal-schedule``. kopf's bookkeeping stays out of
GitOps' way: progress in ``status.kopf``, the diff-base in one annotation that ignores
metadata, handlers only on ``spec``, and kopf's own Events off (Sundial posts its own).
Handlers never return values (kopf would write them into status).
"""

from __future__ import annotations

from typing import Any

import kopf

from sundial.adapters.kube import GROUP, PLURAL, VERSION
from sundial.reconcile import OperatorContext, finalize, reconcile
from sundial.requests import handle_annotation_requests

FINALIZER = "sundial.dev/temporal-schedule"
SCHEDULES = (GROUP, VERSION, PLURAL)


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.StatusProgressStorage(field="status.kopf.progress")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix="sundial.dev", key="last-handled-configuration", ignored_fields=["status", "metadata"],
    )
    settings.posting.enabled = False
    settings.watching.server_timeout = 300
    memo.ctx = await OperatorContext.open(memo.sundial_settings, memo.sundial_options, logger)


@kopf.on.cleanup()
async def cleanup(memo: kopf.Memo, **_: Any) -> None:
    ctx: OperatorContext | None = getattr(memo, "ctx", None)
    if ctx is not None:
        await ctx.close()


@kopf.index(*SCHEDULES)
def schedules_by_namespace(namespace: str, name: str, meta: kopf.Meta, **_: Any) -> dict[str, Any]:
    """Namespace -> (creationTimestamp, name) of each Schedule: the quota's ordering."""
    return {namespace: (meta.creation_timestamp or "", name)}


@kopf.index(*SCHEDULES)
def schedules_by_key(namespace: str, name: str, uid: str, **_: Any) -> dict[Any, Any]:
    """(namespace, name) -> uid: the sweeper's view of which Schedules exist."""
    return {(namespace, name): uid}


@kopf.on.create(*SCHEDULES)
@kopf.on.update(*SCHEDULES, field="spec")
@kopf.on.resume(*SCHEDULES)
async def apply_schedule(
    body: kopf.Body, memo: kopf.Memo, retry: int, schedules_by_namespace: kopf.Index[str, Any], **_: Any
) -> None:
    siblings = list(schedules_by_namespace.get(body.metadata.namespace or "", []))
    await reconcile(memo.ctx, body, siblings, retry)


@kopf.on.delete(*SCHEDULES)
async def delete_schedule(body: kopf.Body, memo: kopf.Memo, retry: int, **_: Any) -> None:
    await finalize(memo.ctx, body, retry)


@kopf.on.event(*SCHEDULES)
async def annotation_requests(
    body: kopf.Body, memo: kopf.Memo, type: str | None, schedules_by_namespace: kopf.Index[str, Any], **_: Any
) -> None:
    """``sundial resume`` and ``sundial trigger`` arrive as annotations; act once per request."""
    if type == "DELETED" or body.metadata.get("deletionTimestamp") or not hasattr(memo, "ctx"):
        return
    siblings = list(schedules_by_namespace.get(body.metadata.namespace or "", []))
    await handle_annotation_requests(memo.ctx, body, siblings)
