"""Schedules with this cluster ID written by another operator install (a copied cluster, a second
install configured with the same ID): reported, never touched (see docs/operations-security.md)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sundial.controller.metrics import OperatorMetrics
from sundial.logs import decision


class ForeignSchedules:
    """A metric every sweep, a log line when the set changes."""

    def __init__(self, metrics: OperatorMetrics, logger: logging.Logger, install_id: str) -> None:
        self.metrics, self.logger, self.install_id = metrics, logger, install_id
        self.last: set[str] = set()  # what the last sweep saw

    def report(self, foreign: Sequence[str]) -> None:
        self.metrics.install_conflicts.set(len(foreign))
        if set(foreign) != self.last:
            self.last = set(foreign)
            if foreign:
                decision(self.logger, "install-conflict", "another operator install uses this cluster ID; its "
                         "schedules are left alone", logging.ERROR, count=len(foreign),
                         install_id=self.install_id, examples=",".join(sorted(foreign)[:3]))
