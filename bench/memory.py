"""``python -m bench.memory``: what the operator holds per schedule at rest, and where.

One operator process, two sizes: create ``--sizes`` A (e.g. 200), let it settle (all Active,
two sweeps), read its RSS; create up to B (e.g. 1000), settle, read again. The slope
(RSS at B - RSS at A) / (B - A) is the cost of one more schedule at rest, free of the
process's fixed cost. With ``--trace`` the operator runs under tracemalloc
(``sundial.devstack.traced_operator``; slower, and RSS then includes tracemalloc's own
tables, so trace and untraced slopes are separate runs) and a snapshot is taken at each
size; the report groups the growth between the two by traceback, so each line says which
code allocated the bytes still held per schedule.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tracemalloc
from pathlib import Path
from typing import Any

from bench import workload as wl
from bench.rounds import wait_sweeps
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


def _active(operator: OperatorProcess) -> float:
    try:
        return wl.active(operator)
    except OSError:  # a traced operator busy with the creates answers a scrape late
        return 0.0


def settle(operator: OperatorProcess, n: int, resync: float) -> None:
    wl.wait_for(f"{n} Active", lambda: _active(operator) >= n, 120 + 2 * n, interval=1.0)
    wait_sweeps(operator, 2, resync)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    small, large = (int(size) for size in args.sizes.split(","))
    stack = BenchStack()
    stack.start()
    try:
        api = stack.kube_api()
        keys = wl.names(large, "mem")
        wl.create_namespaces(api, keys)
        operator = stack.operator("operator-mem", SUNDIAL_RESYNC_SECONDS=str(args.resync),
                                  SCHEDULE_MAX_PER_NAMESPACE=str(wl.PER_NAMESPACE),
                                  SCHEDULE_MAX_PER_USER=str(large + 1))
        folder = args.snapshots or stack.workdir
        folder.mkdir(parents=True, exist_ok=True)
        operator.tracemalloc_to = folder / "heap" if args.trace else None
        operator.start()
        figures: dict[str, Any] = {"sizes": [small, large], "traced": args.trace, "resync": args.resync,
                                   "rss_mb": {"0": round(rss_bytes(operator.pid) / 2**20, 1)}}
        snapshots: list[Path] = []
        try:
            for n, chunk in ((small, keys[:small]), (large, keys[small:])):
                await asyncio.to_thread(wl.create_resources, api, chunk)
                await asyncio.to_thread(settle, operator, n, args.resync)
                figures["rss_mb"][str(n)] = round(rss_bytes(operator.pid) / 2**20, 1)
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
