"""What the controller needs of the outside world, as ``Protocol``s.

The reconcile, the drift sweeper, run accounting and the metrics reach Temporal and Kubernetes
only through these ports, held in ``OperatorContext``. The real adapters
(``adapters.temporal.TemporalGateway`` with ``adapters.temporal_runs.TemporalRuns``,
``adapters.kube.KubeGateway``) satisfy them, and so does every in-memory fake in ``tests/`` and
``bench/``: ``mypy --strict`` checks both, so a fake whose signature drifts from the real
gateway fails the lint instead of raising at run time.

Read-only counters are properties here so a plain attribute (a ``dict``, an ``int``) satisfies
them. Errors are Sundial's own (``sundial.errors``), whichever side implements the port.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any, Protocol

from sundial.domain.desired import DesiredSchedule, ListedSchedule, ObservedSchedule, ScheduleIdentity
from sundial.domain.run_records import RunInfo, RunOutcome
from sundial.domain.status import Status
from sundial.domain.written import WrittenSchedule


class TemporalCounters(Protocol):
    """The calls a Temporal side has made, read by the metrics at scrape time."""

    @property
    def calls(self) -> Mapping[str, Mapping[str, int]]:
        """operation -> outcome (``ok`` | ``error``) -> count."""

    @property
    def seconds(self) -> Mapping[str, float]:
        """operation -> cumulative seconds spent in calls."""

    @property
    def list_pages(self) -> int:
        """Schedule list pages fetched."""


class RunsPort(Protocol):
    """The runs this cluster's schedules started (run accounting, probe runs)."""

    def list_closed_runs(self, prefix: str, closed_after: datetime, page_size: int = ...
                         ) -> AsyncIterator[RunInfo]:
        """Runs of schedules whose ID starts with ``prefix`` that closed at or after ``closed_after``."""

    def list_running(self, prefix: str, page_size: int = ...) -> AsyncIterator[RunInfo]:
        """Open runs of schedules whose ID starts with ``prefix``."""

    async def run_outcome(self, workflow_id: str, run_id: str | None) -> RunOutcome | None:
        """What the run's close event says; ``None`` when its history is gone or it is open (``None``: latest run)."""

    async def start_run(self, workflow_id: str, desired: DesiredSchedule, schedule_id: str) -> bool:
        """Start one run of the schedule's action now, tagged as the schedule's; False if that ID exists."""

    async def cancel_run(self, workflow_id: str, run_id: str) -> bool:
        """Ask a run to cancel; False when it is already gone."""


class TemporalPort(TemporalCounters, Protocol):
    """Temporal schedules: what the reconcile, the sweeper, annotation requests and accounting call."""

    @property
    def runs(self) -> RunsPort:
        """Run queries over the same connection and counters."""

    async def describe(self, schedule_id: str) -> ObservedSchedule:
        """ScheduleNotFound when there is none."""

    async def create(self, identity: ScheduleIdentity, desired: DesiredSchedule) -> WrittenSchedule:
        """ScheduleAlreadyExists when the ID is taken. Returns what was written (no read back)."""

    async def update(self, schedule_id: str, desired: DesiredSchedule) -> WrittenSchedule:
        """Replace the whole schedule with ``desired``; returns what was written (no read back)."""

    async def pause(self, schedule_id: str, note: str) -> None: ...

    async def unpause(self, schedule_id: str, note: str) -> None: ...

    async def trigger(self, schedule_id: str, overlap: str = ...) -> None:
        """Start one run now, even when paused."""

    async def backfill(self, schedule_id: str, start: datetime, end: datetime, overlap: str) -> None:
        """Run the schedule's times in ``[start, end]`` (both included) now (``sundial backfill``)."""

    async def delete(self, schedule_id: str) -> bool:
        """False when there was nothing to delete."""

    def in_namespace(self, namespace: str) -> TemporalPort:
        """The same connection and counters in another Temporal namespace (cleaning up after a move)."""

    def list_schedules(self, page_size: int = ..., query: str | None = ...) -> AsyncIterator[ListedSchedule]:
        """Every schedule matching ``query``, one call per page (eventually consistent)."""


class KubeCounters(Protocol):
    """The writes a Kubernetes side has made, read by the metrics at scrape time."""

    @property
    def writes(self) -> Mapping[str, int]:
        """kind (``status``, ``event``, ``schedule``) -> count."""


class KubePort(KubeCounters, Protocol):
    """Schedule resources and their Events: what the reconcile, the sweeper and accounting call."""

    async def get_schedule(self, namespace: str, name: str) -> dict[str, Any]:
        """ScheduleResourceNotFound when there is none."""

    async def list_schedules(self, namespace: str | None = None) -> list[dict[str, Any]]: ...

    async def count_schedules(self, namespace: str | None = None) -> int:
        """How many Schedules exist (in ``namespace``, or everywhere), at the cost of one small read."""

    async def patch_status(self, namespace: str, name: str, status: Status,
                           resource_version: str | None = None) -> str | None:
        """Merge-patch ``status`` (only on ``resource_version`` when given: KubeConflict otherwise); the new
        resourceVersion, None when the resource is gone (not an error)."""

    async def post_event(self, namespace: str, name: str, uid: str, event_type: str, reason: str,
                         message: str) -> bool:
        """Best effort: False when the apiserver refused it (403, 404, 429); other errors raise."""

    async def username(self) -> str:
        """Who the operator is to the apiserver (the one who may write the creator annotation); '' if unknown."""

    async def close(self) -> None:
        """Release the connection (the operator's cleanup)."""
