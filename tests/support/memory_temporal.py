"""An in-memory Temporal for unit tests: the one fake of ``sundial.ports.TemporalPort`` (and ``RunsPort``).

Schedules are ``ListedSchedule`` entries by ID; ``describe`` shows one as an ``ObservedSchedule``
whose fingerprint is ``"<listed fingerprint>.<rest>"`` (``rest`` is ``"bbbb"`` unless a write
set it), so a test can make the cheap list and the describe agree or disagree. Errors are
Sundial's own, as the real gateway raises them; ``down`` makes every call TemporalUnavailable.
Every call is counted in ``calls`` like ``TemporalGateway.calls``.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sundial.domain.desired import DesiredSchedule, ListedSchedule, ObservedSchedule, ScheduleIdentity, stable_digest
from sundial.domain.run_records import RunInfo, RunOutcome
from sundial.domain.written import WrittenSchedule, written
from sundial.errors import ScheduleAlreadyExists, ScheduleNotFound, TemporalUnavailable

NEXT = datetime(2026, 11, 22, 13, 0, tzinfo=UTC)


class MemoryRuns:
    """Runs as lists the test fills; satisfies ``RunsPort``."""

    def __init__(self, temporal: MemoryTemporal) -> None:
        self.temporal = temporal
        self.runs: list[RunInfo] = []
        self.outcomes: dict[str, RunOutcome] = {}  # run ID -> what its close event says
        self.started: dict[str, tuple[str, DesiredSchedule]] = {}  # workflow ID -> (schedule ID, what it runs)
        self.cancelled: list[str] = []  # run IDs

    async def list_closed_runs(self, prefix: str, closed_after: datetime, page_size: int = 1000
                               ) -> AsyncIterator[RunInfo]:
        self.temporal.call("list_runs")
        for run in self.runs:
            if run.schedule_id.startswith(prefix) and run.closed_at is not None and run.closed_at >= closed_after:
                yield run

    async def list_running(self, prefix: str, page_size: int = 1000) -> AsyncIterator[RunInfo]:
        self.temporal.call("list_runs")
        for run in self.runs:
            if run.schedule_id.startswith(prefix) and run.status == "RUNNING":
                yield run

    async def run_outcome(self, workflow_id: str, run_id: str | None) -> RunOutcome | None:
        """By run ID; ``None`` for the workflow's latest run."""
        self.temporal.call("run_outcome")
        if run_id is None:
            run_id = next((r.run_id for r in reversed(self.runs) if r.workflow_id == workflow_id), None)
        return self.outcomes.get(run_id) if run_id is not None else None

    async def start_run(self, workflow_id: str, desired: DesiredSchedule, schedule_id: str) -> bool:
        """Record a started run (``started``); False when a run with that workflow ID exists."""
        self.temporal.call("start_run")
        if workflow_id in self.started or any(r.workflow_id == workflow_id for r in self.runs):
            return False
        self.started[workflow_id] = (schedule_id, desired)
        return True

    async def cancel_run(self, workflow_id: str, run_id: str) -> bool:
        """Mark an open run cancelled (``cancelled``); False when no open run has that ID."""
        self.temporal.call("cancel_run")
        for index, run in enumerate(self.runs):
            if (run.workflow_id, run.run_id, run.status) == (workflow_id, run_id, "RUNNING"):
                self.runs[index] = dataclasses.replace(run, status="CANCELED")
                self.cancelled.append(run_id)
                return True
        return False


class MemoryTemporal:
    """Schedules in a dict; see the module docstring."""

    def __init__(self) -> None:
        self.schedules: dict[str, ListedSchedule] = {}
        self.rest: dict[str, str] = {}  # schedule ID -> the describe-only part of its fingerprint
        self.triggered: list[str] = []
        self.backfilled: list[tuple[str, datetime, datetime, str]] = []
        self.calls: defaultdict[str, dict[str, int]] = defaultdict(lambda: {"ok": 0, "error": 0})
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.list_pages = 0
        self.down = False
        self.runs = MemoryRuns(self)
        self.namespaces: dict[str, MemoryTemporal] = {}

    def in_namespace(self, namespace: str) -> MemoryTemporal:
        """Other Temporal namespaces, one dict each (made on first use), sharing this one's counters."""
        other = self.namespaces.setdefault(namespace, MemoryTemporal())
        other.calls, other.seconds = self.calls, self.seconds
        return other

    def call(self, operation: str) -> None:
        if self.down:
            self.calls[operation]["error"] += 1
            raise TemporalUnavailable(f"{operation}: connection refused")
        self.calls[operation]["ok"] += 1

    def put(self, identity: ScheduleIdentity, **changes: Any) -> ListedSchedule:
        """A schedule as someone (Sundial or not) left it; ``changes`` override ``ListedSchedule`` fields."""
        entry = ListedSchedule(schedule_id=identity.schedule_id, memo=identity.memo(), paused=False, note="",
                               workflow_type="ScheduledTaskWorkflow", listed_fingerprint="aaaa",
                               next_action_times=(NEXT,))
        entry = dataclasses.replace(entry, **changes)
        self.schedules[entry.schedule_id] = entry
        return entry

    def _get(self, schedule_id: str) -> ListedSchedule:
        entry = self.schedules.get(schedule_id)
        if entry is None:
            raise ScheduleNotFound(f"schedule {schedule_id} not found")
        return entry

    def _write(self, schedule_id: str, memo: dict[str, str], desired: DesiredSchedule) -> None:
        intervals = [[i.every, i.offset] for i in desired.intervals]
        listed = stable_digest([list(desired.crons), intervals, desired.time_zone, desired.workflow_type])[:8]
        self.schedules[schedule_id] = ListedSchedule(
            schedule_id=schedule_id, memo=memo, paused=desired.paused, note=desired.note,
            workflow_type=desired.workflow_type, listed_fingerprint=listed,
            next_action_times=(NEXT,))
        self.rest[schedule_id] = stable_digest(dataclasses.asdict(desired))[:8]

    async def describe(self, schedule_id: str) -> ObservedSchedule:
        self.call("describe")
        entry = self._get(schedule_id)
        return ObservedSchedule(schedule_id=schedule_id, memo=entry.memo, paused=entry.paused,
                                note=entry.note, workflow_type=entry.workflow_type, task_queue="q",
                                fingerprint=f"{entry.listed_fingerprint}.{self.rest.get(schedule_id, 'bbbb')}",
                                next_action_times=entry.next_action_times, recent_actions=entry.recent_actions)

    async def create(self, identity: ScheduleIdentity, desired: DesiredSchedule) -> WrittenSchedule:
        self.call("create")
        if identity.schedule_id in self.schedules:
            raise ScheduleAlreadyExists(f"schedule {identity.schedule_id} already exists")
        self._write(identity.schedule_id, identity.memo(), desired)
        return self._written(identity.schedule_id, desired)

    async def update(self, schedule_id: str, desired: DesiredSchedule) -> WrittenSchedule:
        self.call("update")
        self._write(schedule_id, self._get(schedule_id).memo, desired)
        return self._written(schedule_id, desired)

    def _written(self, schedule_id: str, desired: DesiredSchedule) -> WrittenSchedule:
        """What was sent, with the fingerprint ``describe`` will show (like the real gateway, no read back)."""
        fingerprint = f"{self.schedules[schedule_id].listed_fingerprint}.{self.rest[schedule_id]}"
        return written(schedule_id, desired, fingerprint, desired.max_runs)

    async def pause(self, schedule_id: str, note: str) -> None:
        self.call("pause")
        self.schedules[schedule_id] = dataclasses.replace(self._get(schedule_id), paused=True, note=note)

    async def unpause(self, schedule_id: str, note: str) -> None:
        self.call("unpause")
        self.schedules[schedule_id] = dataclasses.replace(self._get(schedule_id), paused=False, note=note)

    async def trigger(self, schedule_id: str, overlap: str = "AllowAll") -> None:
        self.call("trigger")
        self._get(schedule_id)
        self.triggered.append(schedule_id)

    async def backfill(self, schedule_id: str, start: datetime, end: datetime, overlap: str) -> None:
        self.call("backfill")
        self._get(schedule_id)
        self.backfilled.append((schedule_id, start, end, overlap))

    async def delete(self, schedule_id: str) -> bool:
        self.call("delete")
        return self.schedules.pop(schedule_id, None) is not None

    async def list_schedules(self, page_size: int = 1000, query: str | None = None
                             ) -> AsyncIterator[ListedSchedule]:
        """Pages of ``page_size``; the only query understood is ``ScheduleId STARTS_WITH '<prefix>'``."""
        prefix = query.split("'")[1] if query else ""
        entries = sorted((e for e in self.schedules.values() if e.schedule_id.startswith(prefix)),
                         key=lambda e: e.schedule_id)
        for page in range(max(1, math.ceil(len(entries) / page_size))):
            self.call("list")
            self.list_pages += 1
            for entry in entries[page * page_size:(page + 1) * page_size]:
                yield entry

