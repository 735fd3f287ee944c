"""Give memory back at rest: a full garbage collection, then glibc's ``malloc_trim``, once a period.

Measured (docs/benchmarks.md, "Memory per schedule"): most of the operator's growth at rest was
not live data but garbage and freed memory kept. Python collects its oldest generation only when
the long-lived objects grew by a quarter since the last time; with thousands of index entries
long-lived, that is rarely, so reference cycles made while reconciling (asyncio and aiohttp
objects, exceptions with their frames, some holding 256 KB TLS buffers) pile up in proportion to
the schedules held. And glibc keeps what Python frees in its heaps unless asked to return it.
One ``gc.collect()`` and one ``malloc_trim(0)`` per sweep period bound both; they cost
milliseconds to tens of milliseconds of the event loop at 10,000 schedules (measured there too).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import time
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS)."""
    name = ctypes.util.find_library("c")
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    return trim


def release_memory() -> float:
    """Collect every generation and return freed heap pages to the system; the seconds it took."""
    started = time.monotonic()
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
    return time.monotonic() - started


async def release_memory_loop(interval: float, stop: asyncio.Event, record: Callable[[float], None]) -> None:
    """``release_memory`` every ``interval`` seconds until ``stop`` is set; ``record`` gets each duration."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            record(release_memory())
