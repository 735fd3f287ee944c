"""Which resource of which cluster, written by which operator install, a Temporal schedule belongs to.

Pure. A ``Schedule`` resource owns exactly one Temporal schedule whose ID is a function of
(cluster, namespace, name): ``sundial.<12 hex of sha256(cluster_id)>.<namespace>.<name>``.
Namespaces are DNS labels (no '.'), so the ID parses back uniquely. The memo (write-once in
Temporal) carries the identity: the five ``sundial.dev/*`` keys of ``ScheduleIdentity.memo``, and
``sundial.dev/install-id``: the operator install that wrote it (the UID of its
``sundial-install-id`` ConfigMap). Two clusters configured with one cluster ID share schedule
IDs; the install ID tells their schedules apart, so neither deletes the other's. Schedules
written before the install ID existed carry none and count as this install's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

MANAGED_BY = "sundial.dev/managed-by"
CLUSTER_ID = "sundial.dev/cluster-id"
NAMESPACE = "sundial.dev/namespace"
NAME = "sundial.dev/name"
UID = "sundial.dev/uid"
INSTALL_ID = "sundial.dev/install-id"
ID_PREFIX = "sundial"


def cluster_hash(cluster_id: str) -> str:
    """The 12 hex characters of a cluster's ID used in its schedule IDs."""
    return hashlib.sha256(cluster_id.encode()).hexdigest()[:12]


def cluster_prefix(cluster_id: str) -> str:
    """Every schedule ID of this cluster starts with this."""
    return f"{ID_PREFIX}.{cluster_hash(cluster_id)}."


def parse_schedule_id(schedule_id: str) -> tuple[str, str, str] | None:
    """(cluster hash, namespace, name) of a Sundial schedule ID, or None if it is not one."""
    parts = schedule_id.split(".", 3)
    if len(parts) != 4 or parts[0] != ID_PREFIX or not all(parts[1:]):
        return None
    return parts[1], parts[2], parts[3]


@dataclass(frozen=True)
class ScheduleIdentity:
    """Which resource of which cluster a Temporal schedule belongs to."""

    cluster_id: str
    namespace: str
    name: str
    uid: str
    install_id: str = field(default="", compare=False)  # which operator install wrote it ("" unknown)
    adopted_id: str | None = field(default=None, compare=False)  # sundial.dev/adopt: kept, not deterministic

    def __post_init__(self) -> None:
        if "." in self.namespace or not self.namespace or not self.name:
            raise ValueError(f"not a Kubernetes namespace/name: {self.namespace!r}/{self.name!r}")

    @property
    def schedule_id(self) -> str:
        if self.adopted_id:
            return self.adopted_id
        # at most 8 + 12 + 63 + 253 + 3 characters: far below Temporal's 1000-byte ID limit
        return f"{cluster_prefix(self.cluster_id)}{self.namespace}.{self.name}"

    def memo(self) -> dict[str, str]:
        memo = {MANAGED_BY: "sundial", CLUSTER_ID: self.cluster_id, NAMESPACE: self.namespace,
                NAME: self.name, UID: self.uid}
        return memo | ({INSTALL_ID: self.install_id} if self.install_id else {})

    def other_install(self, other: ScheduleIdentity) -> bool:
        return bool(self.install_id and other.install_id and self.install_id != other.install_id)

    def same_resource_name(self, other: ScheduleIdentity) -> bool:
        """Same cluster, namespace and name (the uid may differ)."""
        return (self.cluster_id, self.namespace, self.name) == (other.cluster_id, other.namespace, other.name)


def identity_from_memo(memo: dict[str, Any]) -> ScheduleIdentity | None:
    """The identity a memo names, or None when the schedule is not Sundial's."""
    if memo.get(MANAGED_BY) != "sundial":
        return None
    values = [memo.get(key) for key in (CLUSTER_ID, NAMESPACE, NAME, UID)]
    if not all(isinstance(value, str) and value for value in values):
        return None
    cluster_id, namespace, name, uid = (str(value) for value in values)
    install = memo.get(INSTALL_ID)
    try:
        return ScheduleIdentity(cluster_id=cluster_id, namespace=namespace, name=name, uid=uid,
                                install_id=install if isinstance(install, str) else "")
    except ValueError:
        return None
