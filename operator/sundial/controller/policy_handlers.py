"""kopf handlers for SchedulePolicies (docs/policies.md): thin, like ``handlers.py``.

Imported only when the operator watches every namespace (``main.py``): policies are cluster-scoped
and select namespaces by label, so they need cluster-wide reads an operator holding Roles only (the
chart's ``watchNamespaces``) does not have; there, the operator's settings are the limits.

These two kinds are few, so kopf's own indexes serve them: kopf runs no Schedule handler before
both are listed, which is what a limit needs (unlike Schedules: ``schedule_index.py``).
"""

from __future__ import annotations

from typing import Any

import kopf

from sundial.adapters.kube import GROUP, POLICY_PLURAL, VERSION
from sundial.controller.policies import PolicyWatch
from sundial.domain.policy import Policy, policy_from_body

POLICIES = (GROUP, VERSION, POLICY_PLURAL)
NAMESPACES = ("v1", "namespaces")


@kopf.index(*POLICIES)
def schedule_policies(body: kopf.Body, **_: Any) -> dict[str, Policy]:
    """Name -> the parsed SchedulePolicy (``domain.policy``): the limits in force, per namespace."""
    return {body.metadata.name or "": policy_from_body(body)}


@kopf.index(*POLICIES)
def policy_statuses(body: kopf.Body, **_: Any) -> dict[str, dict[str, Any]]:
    """Name -> generation and status as last seen: a status is patched only when its counts change."""
    return {body.metadata.name or "": {"generation": body.metadata.get("generation"), "status": dict(body.status)}}


@kopf.index(*NAMESPACES)
def namespace_labels(body: kopf.Body, **_: Any) -> dict[str, dict[str, str]]:
    """Namespace -> its labels: which SchedulePolicies select it."""
    return {body.metadata.name or "": dict(body.metadata.labels)}


@kopf.on.event(*POLICIES)
@kopf.on.event(*NAMESPACES)
async def policy_or_namespace_changed(memo: kopf.Memo, **_: Any) -> None:
    """A policy or a namespace's labels changed: the schedules whose limits changed are looked at again."""
    watch: PolicyWatch | None = getattr(getattr(memo, "background", None), "policy_watch", None)
    if watch is not None:
        watch.poke()
