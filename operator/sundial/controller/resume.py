"""kopf's resume (operator start): reconcile only the resources whose recorded state is not current.

The decision is ``domain.resume.recorded_is_current``; computing the desired schedule's hash
takes no I/O (validation and translation are pure), so a current resource costs no Temporal
call and no Kubernetes write here. Counted in ``sundial_resumes_total{result}``.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from sundial.controller.context import OperatorContext
from sundial.controller.lifecycle import with_runs_used
from sundial.controller.metrics import METRICS
from sundial.controller.reconcile import effective_pause, reconcile
from sundial.domain import status as st
from sundial.domain.admission import CREATOR_ANNOTATION
from sundial.domain.desired import spec_hash
from sundial.domain.resume import recorded_is_current
from sundial.domain.translate import desired_from_spec
from sundial.domain.validation import Peers, check_spec
from sundial.errors import SpecInvalid


def desired_hash(ctx: OperatorContext, body: Mapping[str, Any], peers: Peers) -> str | None:
    """``spec_hash`` of what the reconcile would write now; None when the spec breaks a rule."""
    meta, previous = body["metadata"], st.status_of(body)
    creator = (meta.get("annotations") or {}).get(CREATOR_ANNOTATION, "")
    try:
        spec = check_spec(body.get("spec") or {}, meta, peers, ctx.limits_for(meta["namespace"]), ctx.clock(), creator,
                          new=False)
    except SpecInvalid:
        return None
    desired = desired_from_spec(spec, ctx.identity(body), ctx.defaults, creator, effective_pause(spec, previous))
    return spec_hash(with_runs_used(desired, previous))


async def apply(ctx: OperatorContext, body: Mapping[str, Any], peers: Peers, retry: int = 0,
                resuming: bool = False, status_sink: MutableMapping[str, Any] | None = None) -> None:
    """Nothing for a current resource (the sweep confirms it); the reconcile for any other.

    Also for kopf's create and update: a resource edited while the operator was down gets both a
    resume and an update from kopf, and the second finds the first's work recorded."""
    if retry == 0:
        current = recorded_is_current(body, desired_hash(ctx, body, peers), ctx.identity(body).schedule_id,
                                      ctx.settings.temporal_namespace)
        if resuming:
            METRICS.resumes.inc(result="current" if current else "reconciled")
        if current:
            return
    await reconcile(ctx, body, peers, retry, status_sink)


async def resume(ctx: OperatorContext, body: Mapping[str, Any], peers: Peers, retry: int = 0) -> None:
    """kopf's resume on operator start (see ``apply``)."""
    await apply(ctx, body, peers, retry, resuming=True)
