"""The benchmark's command line: start the stack, run the rounds, print medians as Markdown.

For every N, ``--repeats`` rounds each way; the order of the operator and plain-client
rounds alternates between repeats, so the Temporal server's growing database does not
favour one side. Everything measured is kept in the JSON file (``--json``).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import pstats
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from temporalio.client import Client

from bench import workload
from bench.rounds import Figures, operator_round, plain_round, warm_up
from bench.stack import BenchStack


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--sizes", default="200,1000", help="comma-separated N (default 200,1000)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds per N and side; medians are reported")
    parser.add_argument("--resync", type=float, default=10.0, help="SUNDIAL_RESYNC_SECONDS of the operator")
    parser.add_argument("--json", type=Path, default=None, help="write every figure to this file")
    parser.add_argument("--operator-env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment of the operator, e.g. SUNDIAL_MAX_CONCURRENT_TEMPORAL_CALLS=32")
    parser.add_argument("--sides", default="plain,pattern,operator",
                        help="which rounds to run (plain: create only; pattern: the operator's calls)")
    parser.add_argument("--profile", action="store_true",
                        help="one extra operator round at the largest N under cProfile (not timed)")
    return parser.parse_args(argv)


def _median(rounds: list[Figures], *path: str) -> float:
    values = []
    for figures in rounds:
        value: Any = figures
        for key in path:
            value = value.get(key, {}) if isinstance(value, dict) else {}
        if isinstance(value, int | float):
            values.append(float(value))
    return round(statistics.median(values), 2) if values else float("nan")


def summary(n: int, operator: list[Figures], plain: list[Figures], pattern: list[Figures]) -> dict[str, Any]:
    op_rate, plain_rate = _median(operator, "throughput_per_s"), _median(plain, "throughput_per_s")
    return {
        "n": n, "rounds": len(operator),
        "operator_seconds_to_all_ready": _median(operator, "seconds_to_all_ready"),
        "operator_per_s": op_rate, "plain_client_seconds": _median(plain, "seconds"),
        "plain_client_per_s": plain_rate, "ratio": round(op_rate / plain_rate, 2) if plain_rate else None,
        "plain_operator_pattern_per_s": _median(pattern, "throughput_per_s"),
        "rss_mb_at_rest": _median(operator, "rss_mb_at_rest"),
        "rss_mb_at_start": _median(operator, "rss_mb_at_start"),
        "idle_sweep_list_calls": _median(operator, "idle_sweep", "temporal_calls", '{operation="list"}'),
        "idle_sweep_kube_writes": _median(operator, "idle_sweep", "kubernetes_writes"),
        "idle_sweep_kube_reads": _median(operator, "idle_sweep", "kubernetes_reads"),
        "idle_sweep_seconds": _median(operator, "idle_sweep", "sweep_seconds"),
        "drift_deleted": _median(operator, "drift", "deleted"),
        "drift_seconds_to_all_repaired": _median(operator, "drift", "seconds_to_all_repaired"),
        "drift_repairing_sweep_seconds": _median(operator, "drift", "repairing_sweep_seconds"),
    }


def markdown(rows: list[dict[str, Any]], resync: float) -> str:
    lines = ["| N | operator: s to all Ready | operator/s | plain client s | plain/s | ratio "
             "| plain, operator's call pattern /s | RSS at rest MB "
             "| idle sweep: list calls / kube writes / kube reads / s | 10% deleted: s to repaired "
             f"(resync {resync:g} s) / repairing sweep s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['n']} | {r['operator_seconds_to_all_ready']} | {r['operator_per_s']} "
            f"| {r['plain_client_seconds']} | {r['plain_client_per_s']} | {r['ratio']} "
            f"| {r['plain_operator_pattern_per_s']} | {r['rss_mb_at_rest']} "
            f"| {r['idle_sweep_list_calls']:g} / {r['idle_sweep_kube_writes']:g} / {r['idle_sweep_kube_reads']:g}"
            f" / {r['idle_sweep_seconds']} | {r['drift_seconds_to_all_repaired']} / "
            f"{r['drift_repairing_sweep_seconds']} |")
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    env = dict(item.split("=", 1) for item in args.operator_env)
    stack = BenchStack()
    print(f"starting the stack in {stack.workdir} ...", file=sys.stderr)
    stack.start()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": _machine(),
        "resync_seconds": args.resync, "concurrency": workload.CONCURRENCY, "operator_env": env, "sizes": {}}
    try:
        assert stack.temporal is not None
        temporal = await Client.connect(stack.temporal.address)
        await warm_up(temporal)
        for n in sizes:
            rounds: dict[str, list[Figures]] = {"operator": [], "plain": [], "pattern": []}
            for repeat in range(args.repeats):
                round_id = f"{n}-{repeat}"
                sides = [side for side in ("plain", "pattern", "operator") if side in args.sides.split(",")]
                sides = sides[repeat % 3:] + sides[:repeat % 3]  # rotate: no side always runs first
                for side in sides:
                    started = time.monotonic()
                    if side == "operator":
                        figures = await operator_round(stack, temporal, n, round_id, args.resync, env=env)
                    else:
                        figures = await plain_round(stack, temporal, n, round_id, side == "pattern")
                    figures["load_average_1m_after"] = round(os.getloadavg()[0], 2)  # others on the machine?
                    rounds[side].append(figures)
                    print(f"N={n} repeat {repeat + 1}/{args.repeats} {side}: {time.monotonic() - started:.0f}s"
                          f" ({figures.get('throughput_per_s')}/s)", file=sys.stderr)
            results["sizes"][str(n)] = {"summary": summary(n, rounds["operator"], rounds["plain"],
                                                           rounds["pattern"]), **rounds}
            if args.json:
                args.json.write_text(json.dumps(results, indent=2))
        if args.profile:
            results["cprofile"] = await profiled_round(stack, temporal, max(sizes), args.resync, env)
    finally:
        stack.stop()
    return results


async def profiled_round(stack: BenchStack, temporal: Client, n: int, resync: float,
                         env: dict[str, str]) -> dict[str, Any]:
    """An operator round under cProfile: where the operator's own CPU goes (main thread, i.e. the loop)."""
    stats_file = stack.workdir / "operator.prof"
    figures = await operator_round(stack, temporal, n, f"{n}-profiled", resync, profile_to=stats_file, env=env)
    text = {}
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(str(stats_file), stream=out).strip_dirs().sort_stats(order).print_stats(30)
        text[order] = out.getvalue()
    print(text["tottime"], file=sys.stderr)
    return {"n": n, "seconds_to_all_ready_under_profiler": figures["seconds_to_all_ready"], **text}


def _machine() -> str:
    cpus = len(os.sched_getaffinity(0))
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return f"{cpus} cores ({model}), {platform.system()} {platform.release()}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    results = asyncio.run(run(args))
    rows = [entry["summary"] for entry in results["sizes"].values()]
    print(f"\n{results['date']} on {results['machine']}\n")
    print(markdown(rows, args.resync))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
        print(f"\nall figures: {args.json}")
    return 0
