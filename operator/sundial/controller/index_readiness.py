"""Whether the operator's index of Schedules (``schedule_index``) holds every resource yet.

kopf's first full listing fills the index at start-up; at 10,000 resources that takes a
minute. Until the index holds as many resources as the apiserver counts, the handlers that
decide a quota wait, and so does the sweep (``sundial_sweeps_total{result="waiting"}``):
a sweep that ran meanwhile took every Temporal schedule whose resource was not indexed
yet for an orphan candidate, and checked each with a describe and a read to find it was
not one. Once complete, never again: kopf's watch keeps the index current from there on.
A count that fails (the apiserver away, the CRD's version not served) leaves the index
unconfirmed: everything waits. While the index grows toward the last count, no new count
is taken: one read at the start, one when the listing ends (or stalls: resources deleted
since the count never arrive).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sundial.errors import KubeError
from sundial.logs import decision
from sundial.ports import KubePort

LOGGER = logging.getLogger("sundial.controller.sweeper")


class IndexReadiness:
    """Asks the apiserver how many Schedules exist until the index has caught up, then never again."""

    def __init__(self, kube: KubePort, namespaces: Sequence[str] = ()) -> None:
        self.kube, self.namespaces = kube, tuple(namespaces)
        self.complete = False
        self.reads = 0
        self.counted: int | None = None  # the last count, and the index's size then
        self.indexed_then = -1

    async def check(self, indexed: int) -> bool:
        if self.complete:
            return True
        if self.counted is not None and self.indexed_then < indexed < self.counted:
            self.indexed_then = indexed  # still filling: no need to ask again yet
            return False
        scopes: Sequence[str | None] = self.namespaces or (None,)
        total = 0
        for namespace in scopes:
            self.reads += 1
            try:
                total += await self.kube.count_schedules(namespace)
            except KubeError as exc:
                decision(LOGGER, "index-unconfirmed", f"cannot count the Schedules; quotas and sweep wait: {exc}",
                         logging.WARNING, namespace=namespace or "*")
                return False
        self.counted, self.indexed_then = total, indexed
        self.complete = indexed >= total
        return self.complete
