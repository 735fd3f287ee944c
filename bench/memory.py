"""``python -m bench.memory``: what the operator holds per schedule at rest, and where.

One operator process, two sizes: create ``--sizes`` A (e.g. 200), let it settle (all Active,
two sweeps), read its RSS; create up to B (e.g. 1000), settle, read again. The slope
(RSS at B - RSS at A) / (B - A) is the cost of one more schedule at rest, free of the
process's fixed cost. With ``--trace`` the operator runs under tracemalloc from the moment A has
settled (``sundial.devstack.traced_operator``, lazily started; slower from then on, and RSS then
includes tracemalloc's own tables, so traced and untraced slopes are separate runs); the snapshot
at B holds what was allocated since A and is still alive, grouped by traceback: which
code allocated the bytes still held per schedule.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

from bench import workload as wl
from bench.scale_phases import ACTIVE, POLL, light_metrics, wait_sweeps
from bench.stack import BenchStack, rss_bytes
from sundial.devstack.operator_process import OperatorProcess

IGNORE = (tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
          tracemalloc.Filter(False, "<unknown>"))


def growth(before: Path, after: Path, per: int, group: str, top: int) -> list[dict[str, Any]]:
    """The top allocation sites by bytes grown between two snapshots, per schedule added."""
    old = tracemalloc.Snapshot.load(str(before)).filter_traces(IGNORE)
    new = tracemalloc.Snapshot.load(str(after)).filter_traces(IGNORE)
    rows = []
    for stat in new.compare_to(old, group)[:top]:
        frames = [f"{frame.filename.rsplit('site-packages/', 1)[-1]}:{frame.lineno}"
                  for frame in stat.traceback]
        rows.append({"bytes_per_schedule": round(stat.size_diff / per, 1),
                     "blocks_per_schedule": round(stat.count_diff / per, 2), "where": frames[-6:]})
    return rows


def total_growth(before: Path, after: Path, per: int) -> float:
    old = tracemalloc.Snapshot.load(str(before)).filter_traces(IGNORE)
    new = tracemalloc.Snapshot.load(str(after)).filter_traces(IGNORE)
    def size(snapshot: tracemalloc.Snapshot) -> int:
        return sum(stat.size for stat in snapshot.statistics("filename"))

    grown = size(new) - size(old)
    return round(grown / per, 1)


def rss_parts(pid: int | None) -> dict[str, float]:
    """Resident MB by kind of mapping: glibc's main heap (``[heap]``: the main thread's allocations over
    512 bytes), anonymous mappings (pymalloc's arenas of small objects, other threads' malloc arenas:
    the executor's threads, the Temporal core's tokio workers; stacks), files (code)."""
    parts = {"heap": 0.0, "anonymous": 0.0, "files": 0.0}
    kind = "anonymous"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if "-" in fields[0] and len(fields) >= 5 and ":" in fields[3]:  # a mapping's header line
            name = fields[5] if len(fields) > 5 else ""
            kind = "heap" if name == "[heap]" else "files" if name.startswith("/") else "anonymous"
        elif fields[0] == "Rss:":
            parts[kind] += int(fields[1]) / 1024
    return {key: round(value, 1) for key, value in parts.items()}


def trimmed(pid: int | None) -> float:
    """RSS after glibc's ``malloc_trim(0)`` in the operator (through gdb): how much of the RSS is
    memory freed by Python but kept by the allocator."""
    subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex", "call (int) malloc_trim(0)"], check=True,
                   capture_output=True, timeout=120)
    return round(rss_bytes(pid) / 2**20, 1)


def settle(operator: OperatorProcess, n: int, resync: float) -> None:
    """All N Active, then two sweeps (a traced operator answers a scrape slowly: a long timeout)."""
    wl.wait_for(f"{n} Active", lambda: light_metrics(operator).get(ACTIVE, 0.0) >= n, 300 + 3 * n, POLL)
    wait_sweeps(operator, 2, resync)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    small, large = (int(size) for size in args.sizes.split(","))
    stack = BenchStack()
    stack.start()
    try:
        api = stack.kube_api()
        keys = wl.names(large, "mem")
        wl.create_namespaces(api, keys)
        operator = stack.operator("operator-mem", SUNDIAL_RESYNC_SECONDS=str(args.resync), SUNDIAL_TRACEMALLOC_LAZY="1",
                                  SCHEDULE_MAX_PER_NAMESPACE=str(wl.PER_NAMESPACE),
                                  SCHEDULE_MAX_PER_USER=str(large + 1),
                                  **dict(item.split("=", 1) for item in args.operator_env))
        folder = args.snapshots or stack.workdir
        folder.mkdir(parents=True, exist_ok=True)
        operator.tracemalloc_to = folder / "heap" if args.trace else None
        operator.start()
        figures: dict[str, Any] = {"sizes": [small, large], "traced": args.trace, "resync": args.resync,
                                   "operator_env": args.operator_env,
                                   "rss_mb": {"0": round(rss_bytes(operator.pid) / 2**20, 1)},
                                   "rss_parts_mb": {"0": rss_parts(operator.pid)}}
        snapshots: list[Path] = []
        try:
            for n, chunk in ((small, keys[:small]), (large, keys[small:])):
                await asyncio.to_thread(wl.create_resources, api, chunk)
                await asyncio.to_thread(settle, operator, n, args.resync)
                figures["rss_mb"][str(n)] = round(rss_bytes(operator.pid) / 2**20, 1)
                figures["rss_parts_mb"][str(n)] = rss_parts(operator.pid)
                if args.trim:
                    figures.setdefault("rss_mb_after_malloc_trim", {})[str(n)] = trimmed(operator.pid)
                if args.trace:
                    snapshots.append(await asyncio.to_thread(operator.dump_memory))
                print(f"N={n}: RSS {figures['rss_mb'][str(n)]} MB", file=sys.stderr)
        finally:
            operator.stop()
        added = large - small
        figures["rss_kb_per_schedule"] = round(
            (figures["rss_mb"][str(large)] - figures["rss_mb"][str(small)]) * 1024 / added, 1)
        if args.trace:
            before, after = snapshots
            figures["traced_bytes_per_schedule"] = total_growth(before, after, added)
            figures["by_traceback"] = growth(before, after, added, "traceback", args.top)
            figures["by_line"] = growth(before, after, added, "lineno", args.top)
    finally:
        stack.stop()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__)
    parser.add_argument("--sizes", default="200,1000", help="two sizes A,B: the slope is measured between them")
    parser.add_argument("--resync", type=float, default=10.0)
    parser.add_argument("--trace", action="store_true", help="tracemalloc snapshots, growth by traceback")
    parser.add_argument("--trim", action="store_true", help="also RSS after malloc_trim(0) (needs gdb)")
    parser.add_argument("--operator-env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment of the operator, e.g. MALLOC_ARENA_MAX=2")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--snapshots", type=Path, default=None, help="keep the snapshots in this folder")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    figures = asyncio.run(run(args))
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
