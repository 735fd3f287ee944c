"""Whether kopf's index of Schedules holds every resource yet.

kopf fills its indexes from a first full listing before it runs any handler; at 10,000
resources that listing takes minutes. A sweep that ran meanwhile took every Temporal
schedule whose resource was not indexed yet for an orphan candidate, and checked each
with a describe and a read to find it was not one, and listed Temporal every interval
meanwhile. Until the index holds as many resources as the apiserver counts, a sweep
waits (``sundial_sweeps_total{result="waiting"}``): one small read instead of a sweep,
none after: kopf's watch keeps the index current from there on. A count that fails (the
apiserver away, the CRD's version not served) leaves the index unconfirmed: the sweep waits.
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

    async def check(self, indexed: int) -> bool:
        if self.complete:
            return True
        scopes: Sequence[str | None] = self.namespaces or (None,)
        total = 0
        for namespace in scopes:
            self.reads += 1
            try:
                total += await self.kube.count_schedules(namespace)
            except KubeError as exc:
                decision(LOGGER, "index-unconfirmed", f"cannot count the Schedules, the sweep waits: {exc}",
                         logging.WARNING, namespace=namespace or "*")
                return False
        self.complete = indexed >= total
        return self.complete
