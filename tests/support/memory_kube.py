"""An in-memory Kubernetes API for Schedule resources: the one fake of ``sundial.ports.KubePort``.

It keeps the API server's semantics the controller relies on: a status patch is an RFC 7386
merge patch, every write bumps ``metadata.resourceVersion``, a patch pinned to an older
``resource_version`` is refused with 409 (``KubeConflict``, as the real gateway raises it),
a status patch of a gone resource is not an error (None; else the new version), a GET of one is
``ScheduleResourceNotFound``. Reads hand out copies, so a caller never edits the store by accident.
Used by the unit and integration tests and by ``bench/accounting_scale.py``.
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any, cast

from sundial.adapters.kube import ScheduleResourceNotFound
from sundial.domain.patches import merged
from sundial.domain.status import Status
from sundial.errors import KubeConflict


class MemoryKube:
    """Schedules by (namespace, name); counts reads, writes (by kind, as ``KubeGateway``) and calls."""

    def __init__(self) -> None:
        self.bodies: dict[tuple[str, str], dict[str, Any]] = {}
        self.events: list[tuple[str, str, str, str]] = []  # (name, type, reason, message)
        self.patches: list[tuple[str, str, dict[str, Any]]] = []  # status patches as sent
        self.writes: dict[str, int] = {}
        self.calls: dict[str, int] = {"list": 0, "get": 0, "patch": 0, "event": 0}
        self.reads = 0
        self.closed = False

    def add(self, namespace: str, name: str, spec: dict[str, Any], status: dict[str, Any] | None = None,
            **metadata: Any) -> dict[str, Any]:
        """Create a resource as the API server would (uid, generation 1, creationTimestamp); a copy of it."""
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        meta = {"namespace": namespace, "name": name, "uid": str(uuid.uuid4()), "generation": 1,
                "creationTimestamp": created, "annotations": {}, "resourceVersion": "1", **metadata}
        self.bodies[namespace, name] = {"metadata": meta, "spec": spec, "status": status or {}}
        return copy.deepcopy(self.bodies[namespace, name])

    def status(self, name: str, namespace: str = "team-a") -> dict[str, Any]:
        found: dict[str, Any] = self.bodies[namespace, name]["status"]
        return found

    def _count(self, what: str) -> None:
        self.writes[what] = self.writes.get(what, 0) + 1

    async def list_schedules(self, namespace: str | None = None) -> list[dict[str, Any]]:
        self.reads += 1
        self.calls["list"] += 1
        return [copy.deepcopy(b) for (ns, _), b in self.bodies.items() if namespace in (None, ns)]

    async def count_schedules(self, namespace: str | None = None) -> int:
        self.reads += 1
        self.calls["list"] += 1
        return sum(1 for (ns, _) in self.bodies if namespace in (None, ns))

    async def get_schedule(self, namespace: str, name: str) -> dict[str, Any]:
        self.reads += 1
        self.calls["get"] += 1
        if (namespace, name) not in self.bodies:
            raise ScheduleResourceNotFound(f"schedule {namespace}/{name} not found")
        return copy.deepcopy(self.bodies[namespace, name])

    async def patch_status(self, namespace: str, name: str, status: Status,
                           resource_version: str | None = None) -> str | None:
        self._count("status")
        self.calls["patch"] += 1
        self.patches.append((namespace, name, cast(dict[str, Any], copy.deepcopy(status))))
        body = self.bodies.get((namespace, name))
        if body is None:
            return None  # gone: not an error, as with the real API
        meta = body["metadata"]
        current = str(meta.get("resourceVersion") or "1")
        if resource_version is not None and resource_version != current:
            raise KubeConflict(f"Conflict: resourceVersion {resource_version} is not {current}", 409)
        body["status"] = merged(body.get("status") or {}, status)
        meta["resourceVersion"] = str(int(current) + 1)
        return str(meta["resourceVersion"])

    async def post_event(self, namespace: str, name: str, uid: str, event_type: str, reason: str,
                         message: str) -> bool:
        self._count("event")
        self.calls["event"] += 1
        self.events.append((name, event_type, reason, message))
        return True

    async def username(self) -> str:
        return "system:serviceaccount:sundial:sundial"

    async def close(self) -> None:
        self.closed = True
