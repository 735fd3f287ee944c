"""The one door to Temporal: with its runs part (``temporal_runs.py``: run history and outcomes),
the only module that imports ``temporalio.client``.

It turns a ``DesiredSchedule`` into a freshly built Temporal ``Schedule`` on every write
(re-sending a described spec would append a calendar), reads schedules back as the pure
``ObservedSchedule``/``ListedSchedule`` with their fingerprints (see
``sundial.domain.desired`` for the contract), and translates Temporal's errors into
Sundial's own (``sundial.errors``), always chained with ``from exc``:

    RPCError NOT_FOUND (a schedule)                -> ScheduleNotFound
    ScheduleAlreadyRunningError, ALREADY_EXISTS    -> ScheduleAlreadyExists
    UNAUTHENTICATED, PERMISSION_DENIED             -> TemporalUnauthorized  } TemporalUnavailable:
    NOT_FOUND of the Temporal namespace            -> TemporalNamespaceNotFound } retried, never Invalid
    INVALID_ARGUMENT, FAILED_PRECONDITION, ...     -> TemporalRejected (message kept)
    UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED,
      ABORTED, connect failure (RuntimeError)      -> TemporalUnavailable
    anything else the server says                  -> TemporalError

The SDK retries UNAVAILABLE itself (up to ``max_retry_seconds``, 10 s by default) before
we see it. Every call is counted per operation and outcome in ``calls`` (for metrics),
with its cumulative time in ``seconds``, and list pages in ``list_pages`` (a sweep costs
O(N / page size) calls; ``list_schedules(query="ScheduleId STARTS_WITH '<prefix>'")``
lists one cluster's schedules only, on servers with schedule visibility, 1.2x+).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.client import (
    Client,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleBackfill,
    ScheduleListActionStartWorkflow,
    ScheduleListDescription,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RetryConfig, RPCError

from sundial.adapters.temporal_import import foreign_from_description
from sundial.adapters.temporal_mapping import (
    OVERLAP,
    build_schedule,
    fingerprint_from_description,
    fingerprint_from_desired,
    is_connect_failure,
    listed_fingerprint,
    memo_strings,
    recent_actions,
    tls_config,
    translate,
)
from sundial.adapters.temporal_runs import TemporalRuns
from sundial.domain.adoption import ForeignSchedule
from sundial.domain.completion import remaining_runs_for
from sundial.domain.desired import (
    DesiredSchedule,
    ListedSchedule,
    ObservedSchedule,
    ScheduleIdentity,
)
from sundial.domain.written import WrittenSchedule, written
from sundial.errors import (
    ScheduleNotFound,
    TemporalError,
)


class TemporalGateway:
    """Sundial's Temporal operations over one connected client; satisfies ``ports.TemporalPort``."""

    def __init__(self, client: Client, *, rpc_timeout: timedelta = timedelta(seconds=10),
                 max_concurrency: int = 16) -> None:
        self.client = client
        self.rpc_timeout = rpc_timeout
        self._slots = asyncio.Semaphore(max_concurrency)  # past ~16 calls at once only latency grows
        self.calls: defaultdict[str, dict[str, int]] = defaultdict(lambda: {"ok": 0, "error": 0})
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.list_pages = 0
        self.runs = TemporalRuns(self)  # run queries over the same client, bound and counters

    @classmethod
    async def connect(cls, address: str, namespace: str = "default", *, api_key: str | None = None,
                      tls_cert: Path | None = None, tls_key: Path | None = None, tls_ca: Path | None = None,
                      max_retry_seconds: float = 10.0, max_concurrency: int = 16,
                      lazy: bool = False) -> TemporalGateway:
        """Connect (TLS when any TLS path or an API key is given); TemporalUnavailable if nobody answers.

        ``lazy`` defers the connection to the first call, so an operator starts while Temporal is away.
        """
        tls = tls_config(tls_cert, tls_key, tls_ca, api_key)
        retry = RetryConfig(max_elapsed_time_millis=int(max_retry_seconds * 1000))
        try:
            client = await Client.connect(address, namespace=namespace, api_key=api_key, tls=tls,
                                          retry_config=retry, lazy=lazy)
        except (RuntimeError, RPCError) as exc:
            if isinstance(exc, RuntimeError) and not is_connect_failure(exc):
                raise
            raise translate(exc, f"connect to Temporal at {address}") from exc
        return cls(client, max_concurrency=max_concurrency)

    @property
    def namespace(self) -> str:
        return self.client.namespace

    def in_namespace(self, namespace: str) -> TemporalGateway:
        """The same connection and counters in another Temporal namespace (cleaning up after a move)."""
        if namespace == self.namespace:
            return self
        config = self.client.config()
        config["namespace"] = namespace
        other = TemporalGateway(Client(**config), rpc_timeout=self.rpc_timeout)
        other.calls, other.seconds = self.calls, self.seconds
        return other

    @asynccontextmanager
    async def _calling(self, operation: str, what: str, fine: type[TemporalError] | None = None
                       ) -> AsyncIterator[None]:
        """Bound, count and time one call; translate its errors (``fine`` ones count as ok)."""
        started = time.monotonic()
        try:
            async with self._slots:
                yield
        except (RPCError, ScheduleAlreadyRunningError, RuntimeError) as exc:
            if isinstance(exc, RuntimeError) and not is_connect_failure(exc):
                self.calls[operation]["error"] += 1
                raise  # a bug, not Temporal: let it show as itself
            error = translate(exc, what)
            self.calls[operation]["ok" if fine and isinstance(error, fine) else "error"] += 1
            raise error from exc
        else:
            self.calls[operation]["ok"] += 1
        finally:
            self.seconds[operation] += time.monotonic() - started

    async def create(self, identity: ScheduleIdentity, desired: DesiredSchedule) -> WrittenSchedule:
        """Create the schedule with the identity memo; ScheduleAlreadyExists if the ID is taken.

        No describe afterwards (it would wait for Temporal to start the schedule): what was
        written is known, see ``sundial.domain.written``."""
        schedule_id = identity.schedule_id
        async with self._calling("create", f"create schedule {schedule_id}"):
            remaining = remaining_runs_for(desired, None) if desired.max_runs is not None else None
            await self.client.create_schedule(schedule_id, build_schedule(desired, remaining), memo=identity.memo(),
                                              rpc_timeout=self.rpc_timeout)
        return self._written(schedule_id, desired, remaining)

    def _written(self, schedule_id: str, desired: DesiredSchedule, remaining: int | None) -> WrittenSchedule:
        fingerprint = fingerprint_from_desired(desired, self.client.data_converter.payload_converter)
        return written(schedule_id, desired, fingerprint, remaining)

    async def describe(self, schedule_id: str) -> ObservedSchedule:
        async with self._calling("describe", f"describe schedule {schedule_id}", fine=ScheduleNotFound):
            handle = self.client.get_schedule_handle(schedule_id)
            description = await handle.describe(rpc_timeout=self.rpc_timeout)
            memo = memo_strings(await description.memo())
        action = description.schedule.action
        start = action if isinstance(action, ScheduleActionStartWorkflow) else None
        args: tuple[Any, ...] = ()
        if start is not None and start.args:
            raw = [a for a in start.args if isinstance(a, Payload)]
            with suppress(Exception):  # args someone else wrote in an encoding we cannot read
                args = tuple(self.client.data_converter.payload_converter.from_payloads(raw))
        info = description.info
        return ObservedSchedule(
            schedule_id=schedule_id, memo=memo, paused=description.schedule.state.paused,
            note=description.schedule.state.note or "", workflow_type=start.workflow if start else "",
            task_queue=start.task_queue if start else "",
            fingerprint=fingerprint_from_description(description),
            next_action_times=tuple(info.next_action_times), recent_actions=recent_actions(info.recent_actions),
            running_workflow_ids=tuple(r.workflow_id for r in info.running_actions
                                       if isinstance(r, ScheduleActionExecutionStartWorkflow)),
            action_count=info.num_actions, args=args, run_timeout=start.run_timeout if start else None,
            time_zone=description.schedule.spec.time_zone_name, end_at=description.schedule.spec.end_at,
            limited=description.schedule.state.limited_actions,
            remaining_actions=description.schedule.state.remaining_actions)

    async def describe_foreign(self, schedule_id: str) -> ForeignSchedule:
        """A schedule as plain values for ``sundial import`` (whoever manages it)."""
        async with self._calling("describe", f"describe schedule {schedule_id}", fine=ScheduleNotFound):
            description = await self.client.get_schedule_handle(schedule_id).describe(rpc_timeout=self.rpc_timeout)
            memo = memo_strings(await description.memo())
        return foreign_from_description(schedule_id, description, memo, self.client.data_converter.payload_converter)

    async def update(self, schedule_id: str, desired: DesiredSchedule) -> WrittenSchedule:
        """Replace the whole schedule (spec, action, policies, pause state) with ``desired``; no describe after."""
        sent: list[int | None] = [None]

        def fresh(current: ScheduleUpdateInput) -> ScheduleUpdate:  # Temporal may call it more than once
            state = current.description.schedule.state  # Temporal replaces the state: carry the count over
            remaining = None
            if desired.max_runs is not None:
                remaining = remaining_runs_for(desired, state.remaining_actions if state.limited_actions else None)
            sent[0] = remaining  # the last call's count is the one written
            return ScheduleUpdate(schedule=build_schedule(desired, remaining))

        async with self._calling("update", f"update schedule {schedule_id}"):
            await self.client.get_schedule_handle(schedule_id).update(fresh, rpc_timeout=self.rpc_timeout)
        return self._written(schedule_id, desired, sent[0])

    async def pause(self, schedule_id: str, note: str) -> None:
        async with self._calling("pause", f"pause schedule {schedule_id}"):
            await self.client.get_schedule_handle(schedule_id).pause(note=note, rpc_timeout=self.rpc_timeout)

    async def unpause(self, schedule_id: str, note: str) -> None:
        async with self._calling("unpause", f"unpause schedule {schedule_id}"):
            handle = self.client.get_schedule_handle(schedule_id)
            await handle.unpause(note=note, rpc_timeout=self.rpc_timeout)

    async def trigger(self, schedule_id: str, overlap: str = "AllowAll") -> None:
        """Start one run now, even when paused. AllowAll by default: a person asked for a run,
        so a run still going does not swallow it (under Skip it would). Two triggers within the
        same second make one run: the run's ID is the schedule ID plus the second."""
        async with self._calling("trigger", f"trigger schedule {schedule_id}"):
            await self.client.get_schedule_handle(schedule_id).trigger(overlap=OVERLAP[overlap],
                                                                       rpc_timeout=self.rpc_timeout)

    async def backfill(self, schedule_id: str, start: datetime, end: datetime, overlap: str) -> None:
        """Run the schedule's times in ``[start, end]`` (both included, Temporal's rule) now."""
        async with self._calling("backfill", f"backfill schedule {schedule_id}"):
            await self.client.get_schedule_handle(schedule_id).backfill(
                ScheduleBackfill(start_at=start, end_at=end, overlap=OVERLAP[overlap]), rpc_timeout=self.rpc_timeout)

    async def delete(self, schedule_id: str) -> bool:
        """Delete; False when there was nothing to delete. Runs it started keep running."""
        try:
            async with self._calling("delete", f"delete schedule {schedule_id}", fine=ScheduleNotFound):
                await self.client.get_schedule_handle(schedule_id).delete(rpc_timeout=self.rpc_timeout)
        except ScheduleNotFound:
            return False
        return True

    async def list_schedules(self, page_size: int = 1000, query: str | None = None
                             ) -> AsyncIterator[ListedSchedule]:
        """Every schedule, one list RPC per page (eventually consistent: ~0.1 s behind writes)."""
        pages = await self.client.list_schedules(query, page_size=page_size, rpc_timeout=self.rpc_timeout)
        while True:
            async with self._calling("list", "list schedules"):
                await pages.fetch_next_page()
            self.list_pages += 1
            for entry in pages.current_page or ():
                yield await self._listed(entry)
            if pages.next_page_token is None:
                return

    @staticmethod
    async def _listed(entry: ScheduleListDescription) -> ListedSchedule:
        schedule, info = entry.schedule, entry.info
        action = schedule.action if schedule else None
        workflow_type = action.workflow if isinstance(action, ScheduleListActionStartWorkflow) else ""
        return ListedSchedule(
            schedule_id=entry.id, memo=memo_strings(await entry.memo()),
            paused=schedule.state.paused if schedule else False,
            note=(schedule.state.note or "") if schedule else "", workflow_type=workflow_type,
            listed_fingerprint=listed_fingerprint(schedule.spec, workflow_type) if schedule else "",
            next_action_times=tuple(info.next_action_times) if info else (),
            recent_actions=recent_actions(info.recent_actions) if info else (),
            end_at=schedule.spec.end_at if schedule else None)
