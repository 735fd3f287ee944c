"""The liveness probe fails when a kopf watcher has died, so Kubernetes restarts the operator.

kopf runs one watcher task per watched resource (named ``watcher for <resource>@<namespace>``).
When one ends with an exception (a watch stream it cannot decode, a bug), kopf logs it and
carries on: the operator then handles no Schedule of that kind while its health endpoint
stays green. This probe remembers every watcher it has seen and raises when one has ended
and no live watcher of the same name replaced it (kopf restarts watchers by name when it
re-orchestrates); kopf's health endpoint then answers 500.

Deep objects are the known cause: Python's JSON decoder recurses once per nesting level,
so :func:`allow_deep_json` raises the interpreter's recursion limit to decode anything the
apiserver stores (its own decoder stops at 10,000 levels), and the rules refuse such specs.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from typing import Final

WATCHER_PREFIX: Final = "watcher for "
#: Enough for Python's json (C) decoder and copy.deepcopy on 10,000 levels, the apiserver's own limit.
RECURSION_LIMIT: Final = 25_000


class WatcherDied(RuntimeError):
    """A kopf watcher task ended: this operator no longer sees changes of that resource."""


def allow_deep_json() -> None:
    """Raise the recursion limit so decoding a deeply nested object never kills a watcher."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))


@dataclass
class WatcherWatch:
    """Every kopf watcher task seen so far, by name (kopf may briefly run an old and a new one)."""

    seen: dict[str, set[asyncio.Task[object]]] = field(default_factory=dict)

    def check(self, tasks: set[asyncio.Task[object]] | None = None) -> int:
        """The number of live watchers; raises WatcherDied when every task of some name has ended."""
        live: dict[str, set[asyncio.Task[object]]] = {}
        for task in tasks if tasks is not None else asyncio.all_tasks():
            if task.get_name().startswith(WATCHER_PREFIX) and not task.done():
                live.setdefault(task.get_name(), set()).add(task)
        for name, running in live.items():
            self.seen[name] = running  # the ended ones of a name that lives on are forgotten
        dead = sorted(name for name in self.seen if name not in live)
        if dead:
            ended = sorted(self.seen[dead[0]], key=lambda task: task.cancelled())  # an error before a cancel
            raise WatcherDied(f"{', '.join(dead)} ended: {_why(ended[0])}; restart the operator")
        return sum(len(running) for running in live.values())


def _why(task: asyncio.Task[object]) -> str:
    if task.cancelled():
        return "cancelled"
    error = task.exception()
    return f"{type(error).__name__}: {error}" if error is not None else "returned"
