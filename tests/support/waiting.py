"""One way to wait in tests: poll a probe until it gives something truthy, with a deadline.

``eventually`` for plain probes (sync tests), ``eventually_async`` for probes that must be
awaited; both fail with what was awaited and the probe's last value, never pass on a timeout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def _timed_out(what: str, timeout: float, last: object) -> AssertionError:
    return AssertionError(f"not within {timeout:g}s: {what} (last: {last!r})")


def eventually(what: str, probe: Callable[[], T | None], timeout: float = 15.0, interval: float = 0.2) -> T:
    """Poll ``probe()`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise _timed_out(what, timeout, last)
        time.sleep(interval)


async def eventually_async(what: str, probe: Callable[[], Awaitable[T | None]],
                           timeout: float = 15.0, interval: float = 0.2) -> T:  # noqa: ASYNC109 - as ``eventually``
    """``eventually`` for an async probe; the event loop keeps running between polls."""
    deadline = time.monotonic() + timeout
    while True:
        last = await probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise _timed_out(what, timeout, last)
        await asyncio.sleep(interval)
