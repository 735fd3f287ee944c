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

from sundial.adapters.kube import GROUP, PLURAL, VERSION
from sundial.adapters.webhook_server import WebhookServer
from sundial.controller.admission import start_webhooks
from sundial.controller.annotation_requests import handle_annotation_requests, request_pending
from sundial.controller.background import BackgroundTasks, start_background_tasks
from sundial.controller.context import OperatorContext
from sundial.controller.liveness import WatcherWatch
from sundial.controller.reconcile import finalize
from sundial.controller.resume import apply
from sundial.controller.schedule_index import ScheduleIndexes
from sundial.domain import admission
from sundial.domain.policy import PolicyView

FINALIZER = admission.FINALIZER  # also added at create by the finalizer webhook (docs/admission.md)
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
    schedules: ScheduleIndexes = memo.schedule_indexes
    # kopf passes its indexes (policies and namespaces' labels only) to startup handlers as live objects
    if "schedule_policies" in kwargs:  # served cluster-wide only (``policy_handlers``)
        memo.ctx.policies = PolicyView(kwargs["schedule_policies"], kwargs["namespace_labels"])
    memo.background = await start_background_tasks(memo.ctx, memo.sundial_options, schedules,
                                                   kwargs.get("policy_statuses", {}))
    memo.webhooks = await start_webhooks(memo.ctx, schedules.by_namespace, schedules.by_creator)


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


@kopf.on.event(*SCHEDULES)
async def index_schedule(body: kopf.Body, memo: kopf.Memo, type: str | None, **_: Any) -> None:
    """Every event keeps Sundial's own indexes current (``schedule_index.py``: not kopf's, whose
    start-up gate costs O(N^2)); kopf runs it before the same object's other handlers."""
    memo.schedule_indexes.observe(type, body)


@kopf.on.create(*SCHEDULES)
@kopf.on.update(*SCHEDULES, field="spec")
@kopf.on.resume(*SCHEDULES)
async def apply_schedule(body: kopf.Body, memo: kopf.Memo, retry: int, reason: str, patch: kopf.Patch,
                         **_: Any) -> None:
    """One handler (one ID for kopf's progress); a resource whose recorded state is current costs
    nothing, on operator start above all (``controller/resume.py``). A new resource's synced status
    goes into kopf's own patch, which carries the diff-base to status too: one request for both."""
    peers = await memo.schedule_indexes.peers(body)  # waits, at start-up, until every Schedule is indexed
    await apply(memo.ctx, body, peers, retry, resuming=reason == kopf.Reason.RESUME, status_sink=patch.status)


@kopf.on.delete(*SCHEDULES)
async def delete_schedule(body: kopf.Body, memo: kopf.Memo, retry: int, **_: Any) -> None:
    await finalize(memo.ctx, body, retry)


@kopf.on.event(*SCHEDULES, when=request_pending)
async def annotation_requests(body: kopf.Body, memo: kopf.Memo, type: str, **_: Any) -> None:
    """``sundial resume`` and ``sundial trigger`` arrive as annotations; act once per request."""
    if type == "DELETED" or body.metadata.get("deletionTimestamp") or not hasattr(memo, "ctx"):
        return
    await handle_annotation_requests(memo.ctx, body, await memo.schedule_indexes.peers(body))
