"""``python -m sundial.devstack.traced_operator run ...``: ``sundial run`` under tracemalloc, for memory work.

Opt-in and for development only (the bench's memory scenario, ``OperatorProcess(tracemalloc_to=...)``):
production runs ``sundial run`` and never pays tracemalloc's cost. ``SUNDIAL_TRACEMALLOC_DUMP`` names
a file prefix; each SIGUSR1 collects garbage and writes a ``tracemalloc`` snapshot to
``<prefix>.<n>.snapshot`` (written aside, then renamed, so a reader never sees half a file), which
``bench.memory`` groups by traceback; SIGUSR2 prints every thread's stack to the log.
``SUNDIAL_TRACEMALLOC_FRAMES`` (default 12) is the depth kept. With ``SUNDIAL_TRACEMALLOC_LAZY=1``
tracing starts at the first SIGUSR1 (whose snapshot is then empty): the operator runs at full speed
until then, and the next snapshot holds exactly what was allocated since and is still alive.
"""

from __future__ import annotations

import faulthandler
import gc
import itertools
import os
import runpy
import signal
import sys
import tracemalloc
from pathlib import Path
from types import FrameType

DUMP_ENV, FRAMES_ENV, LAZY_ENV = "SUNDIAL_TRACEMALLOC_DUMP", "SUNDIAL_TRACEMALLOC_FRAMES", "SUNDIAL_TRACEMALLOC_LAZY"


def snapshot_path(prefix: Path, number: int) -> Path:
    return prefix.with_name(f"{prefix.name}.{number}.snapshot")


def install(prefix: Path, frames: int, lazy: bool = False) -> None:
    """Start tracing (``lazy``: at the first SIGUSR1) and dump a snapshot on every SIGUSR1 (the
    handler runs on the main thread, between two bytecodes of whatever it was doing)."""
    if not lazy:
        tracemalloc.start(frames)
    counter = itertools.count(1)

    def dump(_signum: int, _frame: FrameType | None) -> None:
        gc.collect()
        sys._debugmallocstats()  # pymalloc's arenas and pools, to stderr (the log): live vs. kept
        if not tracemalloc.is_tracing():
            tracemalloc.start(frames)
        target = snapshot_path(prefix, next(counter))
        partial = target.with_name(target.name + ".partial")
        tracemalloc.take_snapshot().dump(str(partial))
        partial.rename(target)

    signal.signal(signal.SIGUSR1, dump)
    faulthandler.register(signal.SIGUSR2)  # where is it now? (the stacks go to stderr, i.e. the log)


def main() -> int:
    # Tracing starts after the imports (under tracemalloc, importing the Kubernetes client's APIs, which
    # it does lazily, takes minutes): what is measured is growth while the operator runs.
    from kubernetes.client import AuthenticationV1Api, CoreV1Api, CustomObjectsApi  # noqa: F401

    install(Path(os.environ[DUMP_ENV]), int(os.environ.get(FRAMES_ENV) or 12), os.environ.get(LAZY_ENV) == "1")
    # The CLI runs as a program here, as ``python -m sundial.cli`` would (the devstack starts programs; it
    # does not import the operator's parts): ``SystemExit`` carries its exit code.
    try:
        runpy.run_module("sundial.cli", run_name="__main__", alter_sys=True)
    except SystemExit as done:
        return int(done.code or 0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
