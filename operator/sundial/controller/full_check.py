"""The rolling full check, the I/O half: which schedules this sweep describes, and the comparison.

``sundial.domain.full_check`` sizes the slice and walks the rotation; this keeps the cursor
between sweeps, reports the slice in the sweep metrics and compares one describe with the
resource's recorded fingerprint (a Kubernetes read only when it differs: the sweeper's repair).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from sundial.controller.context import OperatorContext
from sundial.controller.metrics import OperatorMetrics
from sundial.domain.desired import ObservedSchedule, ScheduleIdentity
from sundial.domain.drift import Drift, SweepPlan, confirm_drift
from sundial.domain.full_check import next_slice, slice_size
from sundial.domain.indexed import IndexedSchedule, Key


class RollingFullCheck:
    """Every settled schedule described once per ``full_check_seconds``, a slice per sweep."""

    def __init__(self, resync_seconds: float, full_check_seconds: float, metrics: OperatorMetrics) -> None:
        self.resync_seconds, self.full_check_seconds, self.metrics = resync_seconds, full_check_seconds, metrics
        self.cursor: Key | None = None

    def pick(self, index: Mapping[Key, IndexedSchedule], plan: SweepPlan) -> list[Key]:
        """The next slice of the rotation over settled schedules the list showed no drift for."""
        suspected = {key for key, _ in plan.drift}
        settled = [key for key, indexed in index.items() if indexed.settled and key not in suspected]
        chosen, self.cursor = next_slice(settled, self.cursor,
                                         slice_size(len(settled), self.resync_seconds, self.full_check_seconds))
        self.metrics.last_sweep_full_checks.set(len(chosen))
        return chosen


async def compare_fully(ctx: OperatorContext, key: Key, indexed: IndexedSchedule,
                        describe: Callable[[str], Awaitable[ObservedSchedule | None]]) -> Drift | None:
    """Drift that only a describe shows (input, task queue, timeouts, retry, overlap, catch-up)."""
    schedule_id = ScheduleIdentity(ctx.cluster_id, key[0], key[1], indexed.uid).schedule_id
    return confirm_drift(indexed, await describe(schedule_id), ctx.cluster_id, ctx.clock())
