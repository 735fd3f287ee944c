"""The background loops stand by with kopf: only the active peer sweeps, counts runs and repairs.

With several replicas (``SUNDIAL_PEERING_NAME``) kopf pauses the handlers of every process but
the one with the highest priority; Sundial's own loops are not kopf handlers, so each loop asks
``PeerGate`` at every iteration and skips it unless this process is the active one
(``domain.peering``): one GET of the peering object per namespace (one cluster-wide) per
iteration, and no call at all when standalone. The admission webhooks are served by every
replica: they only answer reviews, and two answers never double anything.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sundial.controller.metrics import METRICS, OperatorMetrics
from sundial.domain.peering import is_active
from sundial.logs import decision

ReadPeering = Callable[[str, str | None], Awaitable[Mapping[str, Any] | None]]  # (name, namespace) -> object
log = logging.getLogger("sundial.controller.peering")


class PeerGate:
    """``await gate()``: whether this process may run its background work now; see the module docstring."""

    def __init__(self, read: ReadPeering | None = None, name: str = "", priority: int = 0,
                 namespaces: Sequence[str] = (), clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 metrics: OperatorMetrics = METRICS) -> None:
        self.read, self.name, self.priority, self.namespaces = read, name, priority, tuple(namespaces)
        self.clock, self.metrics = clock, metrics
        self.active: bool | None = None  # the last answer; None before the first
        metrics.active_peer.set(1 if read is None else 0)

    async def __call__(self) -> bool:
        if self.read is None:  # standalone: always active, no call
            return True
        try:
            found = [await self.read(self.name, namespace) for namespace in self.namespaces or (None,)]
            # kopf pauses on a conflict in any of its peering objects: active means active in all of them
            active = all(obj is not None and is_active(obj.get("status"), self.priority, self.clock())
                         for obj in found)
            why = "" if all(obj is not None for obj in found) else f"peering object {self.name} not found"
        except Exception as exc:  # the apiserver away: the sweep needs it anyway; stand by, never double
            active, why = False, f"{type(exc).__name__}: {exc}"
        if active != self.active:
            decision(log, "peer-active" if active else "peer-standby",
                     "this process is the active peer: background loops run" if active else
                     "this process stands by: background loops wait for the active peer to go",
                     logging.INFO if active or not why else logging.WARNING,
                     peering=self.name, priority=self.priority, error=why or None)
        self.active = active
        self.metrics.active_peer.set(1 if active else 0)
        return active


def peer_gate(peering_name: str | None, priority: int | None, read: ReadPeering,
              namespaces: Sequence[str]) -> PeerGate:
    """The gate for these settings: standalone (no peering name, or no priority drawn) is always active."""
    if not peering_name or priority is None:
        return PeerGate()
    return PeerGate(read, peering_name, priority, namespaces)
