"""SchedulePolicies applied to a namespace: which select it, and the limits in force there. Pure.

Rules (docs/policies.md):

* A policy selects a namespace by a Kubernetes label selector (matchLabels AND matchExpressions
  In/NotIn/Exists/DoesNotExist); an empty selector selects every namespace.
* Where several policies select a namespace, the strictest value of each limit wins: the largest
  minInterval, the smallest of the other numbers, the intersection of the allow-lists.
* Where no selecting policy sets a limit, the operator's setting is in force. Where one does, its
  value replaces the setting, looser or not: the monitoring team's policy may allow every 5 minutes
  although the operator's default is 60. Only cluster admins write policies (the chart's RBAC).
* Each limit remembers who set it (``Limits.sources``), so a refusal names the policy, or the
  operator's variable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from sundial.domain.policy_models import LabelSelector, SchedulePolicySpec, parse_policy
from sundial.domain.rules import Limits

POLICY_KIND = "SchedulePolicy"


@dataclass(frozen=True)
class Policy:
    """One SchedulePolicy as the operator indexes it: its name and parsed spec (None: malformed, ignored)."""

    name: str
    spec: SchedulePolicySpec | None
    error: str = ""  # why the spec did not parse


def policy_from_body(body: Mapping[str, Any]) -> Policy:
    """The index entry of one SchedulePolicy body; a malformed spec is kept with its error, and applies nothing."""
    name = str((body.get("metadata") or {}).get("name") or "")
    try:
        return Policy(name, parse_policy(dict(body.get("spec") or {})))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(["spec", *(str(part) for part in first["loc"])])
        return Policy(name, None, f"{where}: {first['msg']}")


def selects(selector: LabelSelector, labels: Mapping[str, str]) -> bool:
    """Whether a namespace with ``labels`` matches ``selector`` (Kubernetes' semantics)."""
    if any(labels.get(key) != value for key, value in selector.match_labels.items()):
        return False
    for requirement in selector.match_expressions:
        present, value = requirement.key in labels, labels.get(requirement.key)
        matched = {
            "In": present and value in requirement.values,
            "NotIn": not present or value not in requirement.values,
            "Exists": present,
            "DoesNotExist": not present,
        }[requirement.operator]
        if not matched:
            return False
    return True


def label(policy: str) -> str:
    """How a refusal names a policy: SchedulePolicy "sandbox"."""
    return f'{POLICY_KIND} "{policy}"'


def selecting(policies: Iterable[Policy], labels: Mapping[str, str]) -> list[Policy]:
    """The valid policies that select a namespace with ``labels``, by name (a stable order)."""
    return sorted((p for p in policies if p.spec is not None and selects(p.spec.namespace_selector, labels)),
                  key=lambda p: p.name)


# (Limits field, how the policy sets it, is a larger value stricter?)
_NUMBERS: tuple[tuple[str, Callable[[SchedulePolicySpec], float | None], bool], ...] = (
    ("min_interval_minutes", lambda s: s.min_interval_minutes, True),
    ("max_per_namespace", lambda s: s.max_schedules_per_namespace, False),
    ("max_per_user", lambda s: s.max_schedules_per_user, False),
    ("max_budget_usd", lambda s: s.max_budget_per_run_usd, False),
    ("max_total_budget_usd", lambda s: s.max_total_budget_usd, False),
)
_LISTS: tuple[tuple[str, Callable[[SchedulePolicySpec], list[str] | None]], ...] = (
    ("workflow_types", lambda s: s.allowed_workflow_types),
    ("task_queues", lambda s: s.allowed_task_queues),
    ("time_zones", lambda s: s.allowed_time_zones),
)


def effective_limits(defaults: Limits, policies: Iterable[Policy], labels: Mapping[str, str]) -> Limits:
    """The limits in force in a namespace with ``labels``: ``defaults`` (the operator's settings) with
    every limit a selecting policy sets replaced by the strictest such value, and its source recorded."""
    chosen = selecting(policies, labels)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, read, larger_is_stricter in _NUMBERS:
        best: tuple[float, str] | None = None
        for policy in chosen:
            assert policy.spec is not None
            value = read(policy.spec)
            if value is None:
                continue
            if best is None or (value > best[0] if larger_is_stricter else value < best[0]):
                best = (value, policy.name)
        if best is not None:
            values[name], sources[name] = best[0], label(best[1])
    for name, read_list in _LISTS:
        allowed: list[str] | None = None
        setters: list[str] = []
        for policy in chosen:
            assert policy.spec is not None
            listed = read_list(policy.spec)
            if listed is None:
                continue
            setters.append(policy.name)
            allowed = list(listed) if allowed is None else _intersection(allowed, listed)
        if allowed is not None:
            values[name] = tuple(allowed)
            sources[name] = " and ".join(label(setter) for setter in setters)
    if "min_interval_minutes" in values:
        values["min_interval_minutes"] = int(values["min_interval_minutes"])
    for whole in ("max_per_namespace", "max_per_user"):
        if whole in values:
            values[whole] = int(values[whole])
    return replace(defaults, **values, sources=tuple(sorted(sources.items())))


def _intersection(allowed: list[str], listed: list[str]) -> list[str]:
    """Both lists allow a name; "*" allows any, so it keeps the other list."""
    if "*" in allowed:
        return list(listed)
    if "*" in listed:
        return allowed
    return [name for name in allowed if name in listed]


_NAMED = re.compile(POLICY_KIND + r' "([^"]+)"')


def policies_named(message: str) -> list[str]:
    """The policies a refusal's message names as setters of the limits it breaks (once each)."""
    return list(dict.fromkeys(_NAMED.findall(message)))


@dataclass(frozen=True)
class PolicyView:
    """The limits in force per namespace, from kopf's indexes of SchedulePolicies and namespaces.

    ``policies``: name -> Policy; ``namespaces``: name -> its labels. Read on every call, so a
    reconcile or an admission review sees the policies as the watch last showed them.
    """

    policies: Mapping[str, Iterable[Policy]]
    namespaces: Mapping[str, Iterable[Mapping[str, str]]]

    def all_policies(self) -> list[Policy]:
        return [policy for store in list(self.policies.values()) for policy in list(store)[:1]]

    def labels(self, namespace: str) -> Mapping[str, str]:
        return next(iter(self.namespaces.get(namespace, ())), {})

    def limits_for(self, namespace: str, defaults: Limits) -> Limits:
        return effective_limits(defaults, self.all_policies(), self.labels(namespace))


def policy_status(policy: Policy, current: Mapping[str, Any], namespaces: int, schedules: int, violating: int,
                  now: datetime) -> dict[str, Any] | None:
    """The status patch for ``policy`` given its counts, or None when ``current`` already shows them.

    ``current``: {"generation": metadata.generation, "status": the status as read}. Ready is True
    (reason Applied) for a policy that parsed, False (reason InvalidPolicy, the error) otherwise.
    """
    generation, status = current.get("generation"), current.get("status") or {}
    ready = ("True", "Applied", f"governs {schedules} schedules in {namespaces} namespaces") if policy.spec \
        else ("False", "InvalidPolicy", f"ignored: {policy.error}")
    wanted = {"observedGeneration": generation, "namespaces": namespaces, "schedules": schedules,
              "violating": violating}
    old: Mapping[str, Any] = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
    same = (all(status.get(key) == value for key, value in wanted.items())
            and (old.get("status"), old.get("reason"), old.get("message")) == ready
            and old.get("observedGeneration") == generation)
    if same:
        return None
    moved = old.get("status") != ready[0]
    stamp = now.astimezone(UTC).isoformat().replace("+00:00", "Z") if moved or not old \
        else old.get("lastTransitionTime")
    condition = {"type": "Ready", "status": ready[0], "reason": ready[1], "message": ready[2],
                 "observedGeneration": generation, "lastTransitionTime": stamp}
    return {**wanted, "conditions": [condition]}
