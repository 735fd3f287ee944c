"""kopf handlers: thin. Each one hands the resource to ``sundial.controller.reconcile``.

kopf is edge-triggered, so create, spec updates and resume all call one idempotent
``reconcile`` that compares against what Temporal actually has. Deletion runs behind
the finalizer ``sundial.dev/temporal-schedule``. kopf's bookkeeping stays out of
GitOps' way: progress and the diff-base in ``status.kopf`` (the diff-base is read from the
annotation ``sundial.dev/last-handled-configuration`` that earlier versions wrote, when status
has none), handlers only on ``spec``, and kopf's own Events off (Sundial posts its own).
Handlers never return values (kopf would write them into status).
"""

from __future__ import annotations

from typing import Any

import kopf

from sundial.adapters.kube import CREATOR_ANNOTATION, GROUP, PLURAL, VERSION
from sundial.adapters.webhook_server import WebhookServer
from sundial.controller.accounting import Tracked, tracked_from_body
from sundial.controller.admission import start_webhooks
from sundial.controller.annotation_requests import handle_annotation_requests, request_pending
from sundial.controller.background import BackgroundTasks, Indexes, start_background_tasks
from sundial.controller.context import OperatorContext
from sundial.controller.liveness import WatcherWatch
from sundial.controller.reconcile import finalize
from sundial.controller.resume import apply
from sundial.domain.indexed import IndexedSchedule, indexed_from_body
from sundial.domain.policy import PolicyView
from sundial.domain.schedule_metrics import ScheduleMetrics, metrics_from_body
from sundial.domain.validation import Peers

FINALIZER = "sundial.dev/temporal-schedule"
SCHEDULES = (GROUP, VERSION, PLURAL)


class StatusFirstDiffBase(kopf.MultiDiffBaseStorage):
    """kopf's diff-base in ``status.kopf``, so it goes out in the same status patch as a new resource's
    synced status; read from the annotation earlier versions wrote when status has none."""

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        next(iter(self.storages)).store(body=body, patch=patch, essence=essence)


@kopf.on.startup()
async def startup(
    settings: kopf.OperatorSettings, memo: kopf.Memo, logger: kopf.Logger, **kwargs: Any
) -> None:
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.StatusProgressStorage(field="status.kopf.progress")
    settings.persistence.diffbase_storage = StatusFirstDiffBase([
        kopf.StatusDiffBaseStorage(field="status.kopf.last-handled-configuration",
                                   ignored_fields=["status", "metadata"]),
        kopf.AnnotationsDiffBaseStorage(prefix="sundial.dev", key="last-handled-configuration",
                                        ignored_fields=["status", "metadata"]),
    ])
    settings.posting.enabled = False
    settings.watching.server_timeout = 300
    memo.ctx = await OperatorContext.open(memo.sundial_settings, memo.sundial_options, logger)
    # kopf passes its indexes to startup handlers as live objects, filled as resources are listed
    indexes = Indexes(by_key=kwargs["schedules_by_key"], by_namespace=kwargs["schedules_by_namespace"],
                      accounting=kwargs["schedules_for_accounting"], metrics=kwargs["schedules_for_metrics"],
                      by_creator=kwargs["schedules_by_creator"], policy_statuses=kwargs.get("policy_statuses", {}),
                      refused_by_policy=kwargs.get("schedules_refused_by_policy", {}))
    if "schedule_policies" in kwargs:  # served cluster-wide only (``policy_handlers``)
        memo.ctx.policies = PolicyView(kwargs["schedule_policies"], kwargs["namespace_labels"])
    memo.background = await start_background_tasks(memo.ctx, memo.sundial_options, indexes)
    memo.webhooks = await start_webhooks(memo.ctx, kwargs["schedules_by_namespace"], kwargs["schedules_by_creator"])


@kopf.on.probe(id="watchers", errors=kopf.ErrorsMode.PERMANENT)  # fail the request now, not retry it
async def watchers_alive(memo: kopf.Memo, **_: Any) -> int:
    """Live kopf watchers; raising here turns the liveness endpoint red (see ``liveness.py``)."""
    watch: WatcherWatch = memo.setdefault("watcher_watch", WatcherWatch())
    return watch.check()


@kopf.on.cleanup()
async def cleanup(memo: kopf.Memo, **_: Any) -> None:
    webhooks: WebhookServer | None = getattr(memo, "webhooks", None)
    if webhooks is not None:
        await webhooks.close()
    background: BackgroundTasks | None = getattr(memo, "background", None)
    if background is not None:
        await background.close()
    ctx: OperatorContext | None = getattr(memo, "ctx", None)
    if ctx is not None:
        await ctx.close()


@kopf.index(*SCHEDULES)
def schedules_by_namespace(body: kopf.Body, **_: Any) -> dict[str, Any]:
    """Namespace -> (creationTimestamp, name) of each Schedule: the quota's ordering."""
    meta = body.metadata
    return {meta.namespace or "": (meta.creation_timestamp or "", meta.name or "")}


@kopf.index(*SCHEDULES)
def schedules_by_creator(body: kopf.Body, **_: Any) -> dict[str, Any] | None:
    """Creator -> (creationTimestamp, "namespace/name"): the per-user quota's ordering, across namespaces."""
    meta = body.metadata
    creator = meta.annotations.get(CREATOR_ANNOTATION)
    if not creator:
        return None  # not indexed
    return {creator: (meta.creation_timestamp or "", f"{meta.namespace or ''}/{meta.name or ''}")}


@kopf.index(*SCHEDULES)
def schedules_by_key(body: kopf.Body, **_: Any) -> dict[tuple[str, str], IndexedSchedule]:
    """(namespace, name) -> what the sweeper needs (uid, recorded fingerprint, expected pause,
    phase, next run, Firing): a sweep reads no resource unless it has to act on it."""
    return {(body.metadata.namespace or "", body.metadata.name or ""): indexed_from_body(body)}


@kopf.index(*SCHEDULES)
def schedules_for_accounting(body: kopf.Body, **_: Any) -> dict[tuple[str, str], Tracked]:
    """(namespace, name) -> what run accounting needs to decide, without a read, whether to act."""
    return {(body.metadata.namespace or "", body.metadata.name or ""): tracked_from_body(body)}


@kopf.index(*SCHEDULES)
def schedules_for_metrics(body: kopf.Body, **_: Any) -> dict[tuple[str, str], ScheduleMetrics]:
    """(namespace, name) -> the per-schedule metrics: a scrape reads this index, no API call."""
    return {(body.metadata.namespace or "", body.metadata.name or ""): metrics_from_body(body)}


@kopf.on.create(*SCHEDULES)
@kopf.on.update(*SCHEDULES, field="spec")
@kopf.on.resume(*SCHEDULES)
async def apply_schedule(body: kopf.Body, memo: kopf.Memo, retry: int, reason: str, patch: kopf.Patch,
                         **kwargs: Any) -> None:
    """One handler (one ID for kopf's progress); a resource whose recorded state is current costs
    nothing, on operator start above all (``controller/resume.py``). A new resource's synced status
    goes into kopf's own patch, which carries the diff-base to status too: one request for both."""
    await apply(memo.ctx, body, _peers(body, kwargs), retry, resuming=reason == kopf.Reason.RESUME,
                status_sink=patch.status)


def _peers(body: kopf.Body, kwargs: dict[str, Any]) -> Peers:
    """The namespace's and the creator's Schedules from the indexes kopf passes as keyword arguments."""
    by_namespace: kopf.Index[str, tuple[str, str]] = kwargs["schedules_by_namespace"]
    by_creator: kopf.Index[str, tuple[str, str]] = kwargs["schedules_by_creator"]
    creator = body.metadata.annotations.get(CREATOR_ANNOTATION)
    return Peers(namespace=list(by_namespace.get(body.metadata.namespace or "", [])),
                 creator=list(by_creator.get(creator, [])) if creator else [])


@kopf.on.delete(*SCHEDULES)
async def delete_schedule(body: kopf.Body, memo: kopf.Memo, retry: int, **_: Any) -> None:
    await finalize(memo.ctx, body, retry)


@kopf.on.event(*SCHEDULES, when=request_pending)
async def annotation_requests(body: kopf.Body, memo: kopf.Memo, type: str, **kwargs: Any) -> None:
    """``sundial resume`` and ``sundial trigger`` arrive as annotations; act once per request."""
    if type == "DELETED" or body.metadata.get("deletionTimestamp") or not hasattr(memo, "ctx"):
        return
    await handle_annotation_requests(memo.ctx, body, _peers(body, kwargs))
