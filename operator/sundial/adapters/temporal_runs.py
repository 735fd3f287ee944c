"""The Temporal adapter's runs part: the workflows this cluster's schedules started, and their outcomes.

Split from ``temporal.py`` (which it extends; these two are the only modules that import
``temporalio.client``). It works over the same ``TemporalGateway``: the same client, the
same bound on concurrent calls, and the same per-operation counters in ``gateway.calls``
(operations ``list_runs``, ``count_runs``, ``run_outcome`` and ``run_input``), so a sweep's cost shows.

Temporal tags every workflow a schedule starts with the search attribute
``TemporalScheduledById`` (the schedule ID) and ``TemporalScheduledStartTime``. Every
Sundial schedule ID of a cluster starts with the cluster's prefix, so one visibility query
finds all of a cluster's runs, whatever the number of schedules:

    TemporalScheduledById STARTS_WITH 'sundial.<cluster>.' AND CloseTime >= '<rfc3339>'

(checked on dev server 1.32 with sqlite: ``STARTS_WITH`` and time comparisons with
microseconds work, ``ORDER BY`` and ``GROUP BY TemporalScheduledById`` do not). The default
order is close time, newest first, open runs first. Visibility is eventually consistent:
callers de-duplicate, and a retried attempt is listed as ``Failed``. A run's outcome (cost, tokens,
model, error) lives only in its close event: ``run_outcome`` reads that one event (history
filter CLOSE_EVENT) and parses it with ``sundial.adapters.temporal_history`` (the worker's contract).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from temporalio.client import (
    WorkflowExecution,
    WorkflowExecutionAsyncIterator,
    WorkflowExecutionStatus,
    WorkflowHistoryEventFilterType,
)
from temporalio.common import (
    RetryPolicy,
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from sundial.adapters.temporal_history import input_from_start_event, outcome_from_close_event
from sundial.domain.desired import DesiredSchedule
from sundial.domain.run_records import RunInfo, RunOutcome
from sundial.errors import ScheduleNotFound

if TYPE_CHECKING:  # temporal.py builds one of these for its ``runs``
    from sundial.adapters.temporal import TemporalGateway

SCHEDULED_BY: Final = SearchAttributeKey.for_keyword("TemporalScheduledById")
SCHEDULED_START: Final = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
#: ``sundial runs --status`` names -> visibility's ``ExecutionStatus`` values.
STATUS_FILTERS: Final = {
    "running": "Running", "completed": "Completed", "failed": "Failed", "timed_out": "TimedOut",
    "terminated": "Terminated", "canceled": "Canceled",
}
MAX_PAGE_SIZE: Final = 1000


def literal(value: str) -> str:
    """A quoted string for a visibility query; refuses quotes (no Sundial ID has one)."""
    if "'" in value or '"' in value or "\\" in value:
        raise ValueError(f"not usable in a visibility query: {value!r}")
    return f"'{value}'"


def query_time(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds, as visibility compares it."""
    return literal(moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


def runs_query(schedule_id: str, status: str | None = None, since: datetime | None = None,
               until: datetime | None = None) -> str:
    """One schedule's runs; ``status`` is a key of ``STATUS_FILTERS``; the range is on start time."""
    clauses = [f"TemporalScheduledById = {literal(schedule_id)}"]
    if status is not None:
        clauses.append(f"ExecutionStatus = {literal(STATUS_FILTERS[status])}")
    if since is not None:
        clauses.append(f"StartTime >= {query_time(since)}")
    if until is not None:
        clauses.append(f"StartTime < {query_time(until)}")
    return " AND ".join(clauses)


def run_info(execution: WorkflowExecution) -> RunInfo:
    """A listed execution as the pure ``RunInfo``."""
    attributes = execution.typed_search_attributes
    return RunInfo(
        schedule_id=attributes.get(SCHEDULED_BY) or "", workflow_id=execution.id, run_id=execution.run_id,
        status=(execution.status or WorkflowExecutionStatus.RUNNING).name, started_at=execution.start_time,
        closed_at=execution.close_time, scheduled_time=attributes.get(SCHEDULED_START),
        workflow_type=execution.workflow_type)


@dataclass(frozen=True)
class RunPage:
    """One page of a schedule's runs, in the server's order; ``next_page_token`` None on the last."""

    runs: tuple[RunInfo, ...]
    next_page_token: bytes | None


class TemporalRuns:
    """Run queries over a connected ``TemporalGateway`` (its ``runs``); satisfies ``ports.RunsPort``."""

    def __init__(self, gateway: TemporalGateway) -> None:
        self.gateway = gateway
        self.pages = 0

    async def list_closed_runs(self, prefix: str, closed_after: datetime, page_size: int = MAX_PAGE_SIZE
                               ) -> AsyncIterator[RunInfo]:
        """Runs of schedules whose ID starts with ``prefix`` that closed at or after ``closed_after``.

        One call per page: the cost grows with the runs in the window, not with the schedules.
        """
        async for run in self._by_prefix(prefix, f"CloseTime >= {query_time(closed_after)}", page_size):
            if run.closed_at is not None and run.closed_at >= closed_after:
                yield run

    async def list_running(self, prefix: str, page_size: int = MAX_PAGE_SIZE) -> AsyncIterator[RunInfo]:
        """Open runs of schedules whose ID starts with ``prefix``."""
        async for run in self._by_prefix(prefix, "ExecutionStatus = 'Running'", page_size):
            if run.status == "RUNNING":
                yield run

    async def count_running(self, prefix: str) -> dict[str, int]:
        """Schedule ID -> number of open runs (only schedules with some)."""
        counts: defaultdict[str, int] = defaultdict(int)
        async for run in self.list_running(prefix):
            counts[run.schedule_id] += 1
        return dict(counts)

    async def list_runs(self, schedule_id: str, status: str | None = None, since: datetime | None = None,
                        until: datetime | None = None, page_size: int = 100, page_token: bytes | None = None
                        ) -> RunPage:
        """One page (one call) of one schedule's runs; pass ``next_page_token`` back for the next."""
        pages = self.gateway.client.list_workflows(
            runs_query(schedule_id, status, since, until), page_size=min(page_size, MAX_PAGE_SIZE),
            next_page_token=page_token, rpc_timeout=self.gateway.rpc_timeout)
        await self._fetch(pages, f"list the runs of {schedule_id}")
        return RunPage(tuple(run_info(e) for e in pages.current_page or ()), pages.next_page_token)

    async def count_runs(self, schedule_id: str, status: str | None = None, since: datetime | None = None,
                         until: datetime | None = None) -> int:
        """How many runs ``list_runs`` would list, in one call."""
        query = runs_query(schedule_id, status, since, until)
        async with self.gateway._calling("count_runs", f"count the runs of {schedule_id}"):
            counted = await self.gateway.client.count_workflows(query, rpc_timeout=self.gateway.rpc_timeout)
        return counted.count

    async def start_run(self, workflow_id: str, desired: DesiredSchedule, schedule_id: str) -> bool:
        """Start one run of the schedule's action now, outside the schedule (``sundial resume --probe``).

        Tagged ``TemporalScheduledById = schedule_id`` like the runs the schedule starts (the dev
        server and Temporal accept it on a client start), so run accounting counts it once like
        any run and ``sundial runs`` lists it. A run with this ID that exists already is kept
        (``False``): the same request after an operator restart starts nothing new.
        """
        try:
            async with self.gateway._calling("start_run", f"start run {workflow_id}"):
                await self.gateway.client.start_workflow(
                    desired.workflow_type, args=list(desired.args), id=workflow_id, task_queue=desired.task_queue,
                    run_timeout=desired.run_timeout, retry_policy=RetryPolicy(
                        maximum_attempts=desired.retry_maximum_attempts),
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    search_attributes=TypedSearchAttributes([SearchAttributePair(SCHEDULED_BY, schedule_id)]),
                    rpc_timeout=self.gateway.rpc_timeout)
        except WorkflowAlreadyStartedError:
            return False
        return True

    async def run_outcome(self, workflow_id: str, run_id: str | None) -> RunOutcome | None:
        """What the run's close event says (one call); ``None`` when its history is gone or it is open.

        ``run_id=None``: the workflow's latest run (after a retry, the attempt now running)."""
        handle = self.gateway.client.get_workflow_handle(workflow_id, run_id=run_id)
        try:
            async with self.gateway._calling("run_outcome", f"read the close event of {workflow_id} {run_id}",
                                             fine=ScheduleNotFound):
                events = [event async for event in handle.fetch_history_events(
                    event_filter_type=WorkflowHistoryEventFilterType.CLOSE_EVENT,
                    rpc_timeout=self.gateway.rpc_timeout)]
        except ScheduleNotFound:  # NOT_FOUND about the run: deleted by retention, or never there
            return None
        if not events:
            return None
        return outcome_from_close_event(events[-1], self.gateway.client.data_converter.payload_converter)

    async def run_input(self, workflow_id: str, run_id: str) -> Any:
        """The run's input from its first event (one call: a page of one event); ``None`` when gone."""
        handle = self.gateway.client.get_workflow_handle(workflow_id, run_id=run_id)
        try:
            async with self.gateway._calling("run_input", f"read the first event of {workflow_id} {run_id}",
                                             fine=ScheduleNotFound):
                async for event in handle.fetch_history_events(page_size=1, rpc_timeout=self.gateway.rpc_timeout):
                    return input_from_start_event(event, self.gateway.client.data_converter.payload_converter)
        except ScheduleNotFound:  # deleted by retention, or never there
            return None
        return None

    async def cancel_run(self, workflow_id: str, run_id: str) -> bool:
        """Ask a run to cancel (the workflow sees a CancelledError); False when it is already gone."""
        handle = self.gateway.client.get_workflow_handle(workflow_id, run_id=run_id)
        try:
            async with self.gateway._calling("cancel_run", f"cancel run {workflow_id} {run_id}",
                                             fine=ScheduleNotFound):
                await handle.cancel(rpc_timeout=self.gateway.rpc_timeout)
        except ScheduleNotFound:  # NOT_FOUND: closed and gone already
            return False
        return True

    async def _by_prefix(self, prefix: str, condition: str, page_size: int) -> AsyncIterator[RunInfo]:
        query = f"TemporalScheduledById STARTS_WITH {literal(prefix)} AND {condition}"
        async for run in self._pages(query, page_size):
            if run.schedule_id.startswith(prefix):
                yield run

    async def _pages(self, query: str, page_size: int) -> AsyncIterator[RunInfo]:
        """Every match, one call per page."""
        pages = self.gateway.client.list_workflows(query, page_size=min(page_size, MAX_PAGE_SIZE),
                                                   rpc_timeout=self.gateway.rpc_timeout)
        while True:
            await self._fetch(pages, "list runs")
            for execution in pages.current_page or ():
                yield run_info(execution)
            if pages.next_page_token is None:
                return

    async def _fetch(self, pages: WorkflowExecutionAsyncIterator, what: str) -> None:
        async with self.gateway._calling("list_runs", what):
            await pages.fetch_next_page()
        self.pages += 1

