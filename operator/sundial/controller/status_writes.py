"""Status writes that lose no one else's update.

The reconcile, the sweeper's watchdog and run accounting all write the resource's status. A
JSON merge patch replaces a list whole, so a writer that sends ``conditions`` computed from an
older read would silently undo another writer's condition. So a write that carries
``conditions`` is sent on the resourceVersion it was computed from; on 409 (KubeConflict) the
resource is read again and only this writer's own changes are re-applied on the fresh status
(``domain.status.rebase``), a few times. Writes of scalars and nested objects merge key by key
and go without a version.

Within one reconcile the same body is written more than once; each write moves the version, so
the version this process wrote last from a body is remembered (``VersionChain``) and the next
write from that body starts there instead of paying a certain 409.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol

from sundial.domain import status as st
from sundial.errors import KubeConflict, KubeNotFound

ATTEMPTS = 5


class StatusPort(Protocol):
    async def patch_status(self, namespace: str, name: str, status: st.Status,
                           resource_version: str | None = None) -> str | None: ...

    async def get_schedule(self, namespace: str, name: str) -> dict[str, Any]: ...


class VersionChain:
    """(namespace, name, version read) -> the version this process's last write from it produced."""

    def __init__(self, keep: int = 4096) -> None:
        self.keep = keep
        self.latest: OrderedDict[tuple[str, str, str], str] = OrderedDict()

    def current(self, namespace: str, name: str, read: str | None) -> str | None:
        return self.latest.get((namespace, name, read), read) if read else None

    def wrote(self, namespace: str, name: str, read: str | None, written: str | None) -> None:
        if read and written:
            self.latest[(namespace, name, read)] = written
            self.latest.move_to_end((namespace, name, read))
            while len(self.latest) > self.keep:
                self.latest.popitem(last=False)


async def write_status(kube: StatusPort, chain: VersionChain, body: Mapping[str, Any], previous: st.Status,
                       new: st.Status) -> None:
    """Patch what changed from ``previous`` to ``new``; nothing when nothing did. See the module docstring."""
    changes = st.status_changes(previous, new)
    if not changes:
        return
    meta = body["metadata"]
    namespace, name, read = meta["namespace"], meta["name"], meta.get("resourceVersion")
    version = chain.current(namespace, name, read) if "conditions" in changes else None
    for _ in range(ATTEMPTS):
        try:
            chain.wrote(namespace, name, read, await kube.patch_status(namespace, name, changes, version))
            return
        except KubeConflict:
            try:
                fresh = await kube.get_schedule(namespace, name)
            except KubeNotFound:
                return  # gone: nothing to write
            changes = st.rebase(previous, new, st.status_of(fresh).copy())
            version = (fresh.get("metadata") or {}).get("resourceVersion")
            if not changes:
                return
            if "conditions" not in changes:
                version = None
    raise KubeConflict(f"status of {namespace}/{name}: still conflicting after {ATTEMPTS} attempts", 409)
