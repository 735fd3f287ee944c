"""The honest baseline: a plain client that creates each schedule and waits until it has started.

A create returns once Temporal has accepted the schedule; the server then starts the
schedule's own workflow and runs its first task. The create-only rate leaves that half of
Temporal's work outside its window, while an operator that reports a schedule Ready has
(in general) waited for it. This client does the same work and no more: create, then
describe until the first describe answers (a describe is a query on that workflow, so it
answers once the schedule has started), 16 schedules at a time like the operator.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from bench import workload as wl
from bench.rounds import Figures, cpu_snapshot, delta, per_schedule
from bench.stack import BenchStack


async def first_describe(temporal: Client, schedule_id: str, patience: float = 120.0) -> None:
    """Describe until it answers; NOT_FOUND right after a create is retried, not an answer."""
    handle = temporal.get_schedule_handle(schedule_id)
    deadline = time.monotonic() + patience
    while True:
        try:
            await wl.retried(handle.describe)
            return
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


async def creates_until_started(temporal: Client, schedules: list[tuple[str, Any, dict[str, str]]]) -> float:
    """Create every schedule and wait until each has started; returns the seconds it took."""
    def job(sid: str, schedule: Any, memo: dict[str, str]) -> Callable[[], Awaitable[Any]]:
        async def calls() -> None:
            await wl.retried(lambda: temporal.create_schedule(sid, schedule, memo=memo))
            await first_describe(temporal, sid)
        return calls

    return await wl.bounded(job(*item) for item in schedules)


async def started_round(stack: BenchStack, temporal: Client, n: int, round_id: str) -> Figures:
    """One round of the honest baseline (the schedules are deleted afterwards, not timed)."""
    schedules = wl.plain_schedule_ids(n, f"{round_id}-started")
    cpu_before, requests_before = cpu_snapshot(stack, None), stack.temporal_requests()
    seconds = await creates_until_started(temporal, schedules)
    cpu_after, requests_after = cpu_snapshot(stack, None), stack.temporal_requests()
    await wl.delete_schedules(temporal, [sid for sid, _, _ in schedules])
    return {"n": n, "seconds": round(seconds, 2), "throughput_per_s": round(n / seconds, 1),
            "profile": {"cpu_seconds": delta(cpu_after, cpu_before),
                        "temporal_requests_per_schedule": per_schedule(requests_after, requests_before, n)}}
