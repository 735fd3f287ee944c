"""kopf handlers for SchedulePolicies (docs/policies.md): thin, like ``handlers.py``.

Imported only when the operator watches every namespace (``main.py``): policies are cluster-scoped
and select namespaces by label, so they need cluster-wide reads an operator holding Roles only (the
chart's ``watchNamespaces``) does not have; there, the operator's settings are the limits.
"""

from __future__ import annotations

from typing import Any

import kopf

from sundial.adapters.kube import GROUP, PLURAL, POLICY_PLURAL, VERSION
from sundial.controller.policies import PolicyWatch
from sundial.domain.policy import Policy, policies_named, policy_from_body

SCHEDULES = (GROUP, VERSION, PLURAL)
POLICIES = (GROUP, VERSION, POLICY_PLURAL)
NAMESPACES = ("v1", "namespaces")


@kopf.index(*SCHEDULES)
def schedules_refused_by_policy(body: kopf.Body, **_: Any) -> dict[str, tuple[str, str]]:
    """Policy -> (namespace, name) of each Schedule Stalled for a limit it set (its status' violating)."""
    stalled: dict[str, Any] = next((c for c in body.status.get("conditions") or [] if c.get("type") == "Stalled"), {})
    named = policies_named(stalled.get("message") or "") if stalled.get("status") == "True" else []
    return {policy: (body.metadata.namespace or "", body.metadata.name or "") for policy in named}


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
