"""Quota re-admission: which refused schedules the quotas (namespace and creator) admit now.

Pure. A schedule refused with ``ScheduleLimitReached`` waits as ``Invalid``; nothing about it
changes when an older schedule of its namespace is deleted or the operator's quota is raised, so
no handler fires. The sweeper asks ``readmissions`` every sweep, from the resource index alone
(no Kubernetes call), and reconciles the schedules it names, in quota order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from sundial.domain.indexed import IndexedSchedule, Key
from sundial.domain.rules import LIMIT_REACHED, Limits, namespace_quota_refusal, user_quota_refusal


def readmissions(index: Mapping[Key, IndexedSchedule], by_namespace: Mapping[str, Iterable[tuple[str, str]]],
                 limits: Limits | Callable[[str], Limits]) -> list[Key]:
    """The waiting (refused by a quota) schedules both quotas admit now, in quota order:
    (namespace, creationTimestamp, name). ``by_namespace`` maps a namespace to its schedules as
    (creationTimestamp, name), the order the quota itself uses. ``limits``: the same everywhere, or
    those in force in a namespace (SchedulePolicies, ``domain.policy``)."""
    limits_for = limits if callable(limits) else (lambda _: limits)
    waiting = [key for key, indexed in index.items()
               if indexed.refusal == LIMIT_REACHED and indexed.phase == "Invalid" and not indexed.deleting]
    created_at = {(namespace, name): stamp for namespace, members in by_namespace.items() for stamp, name in members}
    by_creator: dict[str, list[tuple[str, str | None]]] = {}
    for (ns, n), entry in index.items() if waiting else ():
        if entry.creator:
            by_creator.setdefault(entry.creator, []).append((f"{ns}/{n}", created_at.get((ns, n)) or None))
    admitted: list[tuple[str, str, str]] = []
    for namespace, name in waiting:
        siblings = [(sibling, created or None) for created, sibling in by_namespace.get(namespace, ())]
        created = created_at.get((namespace, name))
        creator = index[(namespace, name)].creator
        here = limits_for(namespace)
        if namespace_quota_refusal(namespace, name, created, siblings, here) is None and not (creator and (
                user_quota_refusal(creator, f"{namespace}/{name}", created, by_creator[creator], here))):
            admitted.append((namespace, created or "", name))
    return [(namespace, name) for namespace, _, name in sorted(admitted)]
