"""The side-by-side bench's waits, each with a deadline, sized so N=1000 costs the stack little.

What the bench polls runs on the same 2 cores as what it measures, so each wait asks only
about what it does not know yet: the readiness poll lists only namespaces not yet all
Ready, and the repair poll describes only schedules not yet back. Deadlines grow with N
where the work does.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from temporalio.service import RPCError

from bench import workload as wl

PEER_REQUEUE_SECONDS = 300.0  # the peer re-reads each schedule every 5 minutes (Sundial: every 60 s)
REPAIR_SLACK_SECONDS = 120.0


def pending_namespaces(expected: dict[str, int], ready: dict[str, int]) -> set[str]:
    """The namespaces whose list does not yet show all their resources Ready."""
    return {namespace for namespace, count in expected.items() if ready.get(namespace, 0) < count}


def expected_per_namespace(keys: Iterable[tuple[str, str]]) -> dict[str, int]:
    expected: dict[str, int] = {}
    for namespace, _ in keys:
        expected[namespace] = expected.get(namespace, 0) + 1
    return expected


def repair_deadline(seconds_to_all_ready: float) -> float:
    """Seconds to wait for schedules deleted out of band: one requeue period of the peer, one
    pass through all N (the create phase just measured how long that takes), and slack."""
    return PEER_REQUEUE_SECONDS + seconds_to_all_ready + REPAIR_SLACK_SECONDS


def wait_counted(requests: Callable[[], dict[str, float]], operation: str, target: float,
                 timeout: float = 60.0) -> float:
    """Wait until the dev server's counter of ``operation`` reaches ``target``: the server
    exports its counters a second or two late, so a window opened right after a burst
    of calls would count the tail of that burst."""
    return wl.wait_for(f"the dev server to count {target:g} {operation}",
                       lambda: requests().get(operation, 0.0) >= target, timeout, interval=0.5)


class _Handle(Protocol):
    async def describe(self) -> Any: ...


class _Schedules(Protocol):
    def get_schedule_handle(self, schedule_id: str) -> _Handle: ...


async def wait_all_back(temporal: _Schedules, victims: list[str], patience: float, interval: float = 1.0,
                        concurrency: int = wl.CONCURRENCY) -> dict[str, float]:
    """Seconds after which each of ``victims`` answered a describe again. Every ``interval``
    it describes (16 at a time) only those not yet seen back: a recreated schedule stays."""
    slots, missing, started = asyncio.Semaphore(concurrency), list(victims), time.monotonic()
    back_after: dict[str, float] = {}

    async def back(schedule_id: str) -> None:
        async with slots:
            try:
                await temporal.get_schedule_handle(schedule_id).describe()
            except RPCError:
                return
            back_after[schedule_id] = time.monotonic() - started

    while True:
        await asyncio.gather(*(back(sid) for sid in missing))
        missing = [sid for sid in missing if sid not in back_after]
        if not missing:
            return back_after
        if time.monotonic() - started > patience:
            raise TimeoutError(f"{len(missing)} of {len(victims)} schedules deleted out of band "
                               f"not back within {patience:g}s (first: {missing[0]})")
        await asyncio.sleep(interval)


def fraction_marks(seconds: Iterable[float], fractions: tuple[float, ...] = (0.5, 0.9, 1.0)) -> dict[str, float]:
    """Seconds until each fraction of the items was done: {"50%": .., "90%": .., "100%": ..}."""
    ordered = sorted(seconds)
    return {f"{round(100 * f)}%": round(ordered[max(0, math.ceil(f * len(ordered)) - 1)], 2) for f in fractions}
