"""The periodic memory release: a full collection (cycles in the oldest generation go) and a heap trim."""

from __future__ import annotations

import asyncio
import gc
import weakref

from sundial.controller.memory import _malloc_trim, release_memory, release_memory_loop


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_release_memory_collects_cycles_in_the_oldest_generation() -> None:
    a, b = Node(), Node()
    a.other, b.other = b, a
    gc.collect()  # both survive into the oldest generation, where Python rarely looks
    gone = weakref.ref(a)
    del a, b
    assert gone() is not None  # a cycle: reference counting alone never frees it
    assert release_memory() >= 0
    assert gone() is None


def test_malloc_trim_is_found_on_glibc() -> None:
    assert _malloc_trim() is not None  # this machine runs glibc; elsewhere release_memory only collects


async def test_the_loop_releases_every_interval_until_stopped() -> None:
    stop, durations = asyncio.Event(), list[float]()

    def record(seconds: float) -> None:
        durations.append(seconds)
        if len(durations) == 2:
            stop.set()

    await asyncio.wait_for(release_memory_loop(0.01, stop, record), 5)
    assert len(durations) >= 2 and all(seconds >= 0 for seconds in durations)
