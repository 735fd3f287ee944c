"""Sundial beside the Go peer (bmorton/temporal-operator v0.11.2) and the two plain baselines.

    SUNDIAL_PEER_SOURCE=<source tarball or folder of bmorton/temporal-operator v0.11.2> \\
        python -m bench.peer_cli [--sizes 200] [--repeats 3] [--idle 300] [--json FILE]

Per N and repeat, four rounds on one stack, their order rotating between repeats: the
plain client's creates (create only), the honest baseline (create, then wait until each
schedule has started), Sundial, and the peer. Ratios are taken within a repeat (same
run, same machine load) and their median is reported, beside the medians of each figure
and the 1-minute load average after each round (the machine is shared).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from temporalio.client import Client

from bench.baseline import started_round
from bench.cli import _machine
from bench.peer_build import ensure_peer
from bench.peer_rounds import background_requests, side_round
from bench.peer_stack import PeerStack
from bench.peer_waits import wait_counted
from bench.rounds import Figures, plain_round, warm_up

SIDES = ("plain", "started", "sundial", "peer")
WARM_UP = 200


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.peer_cli", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="200", help="comma-separated N (default 200)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats per N; medians are reported")
    parser.add_argument("--idle", type=float, default=300.0,
                        help="idle window, seconds (scaled to 10 minutes; >= 300 covers the peer's requeue)")
    parser.add_argument("--background", type=float, default=120.0,
                        help="window to measure the dev server's own requests with no operator, seconds")
    parser.add_argument("--sides", default=",".join(SIDES), help=f"which rounds to run ({','.join(SIDES)})")
    parser.add_argument("--json", type=Path, default=None, help="write every figure to this file")
    parser.add_argument("--logs", type=Path, default=None, help="keep each operator's log in this folder")
    return parser.parse_args(argv)


async def one_round(stack: PeerStack, temporal: Client, side: str, n: int, round_id: str,
                    args: argparse.Namespace, background: dict[str, float]) -> Figures:
    if side == "plain":
        return await plain_round(stack, temporal, n, round_id)
    if side == "started":
        return await started_round(stack, temporal, n, round_id)
    return await side_round(stack, temporal, side, n, round_id, args.idle, background, args.logs)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def summary(rounds: list[dict[str, Figures]]) -> dict[str, Any]:
    """Medians of each side's figures, and medians of the same-repeat ratios."""
    def figures(side: str, key: str) -> list[float]:
        return [float(r[side][key]) for r in rounds if side in r and isinstance(r[side].get(key), int | float)]

    def ratio(a: str, b: str) -> float | None:
        return _median([r[a]["throughput_per_s"] / r[b]["throughput_per_s"] for r in rounds if a in r and b in r])

    result: dict[str, Any] = {"repeats": len(rounds)}
    for side in ("plain", "started"):
        result[side] = {key: _median(figures(side, key)) for key in ("seconds", "throughput_per_s")}
    keys = ("seconds_to_all_created", "seconds_to_all_ready", "throughput_per_s", "operator_cpu_seconds_create",
            "operator_cpu_ms_per_schedule", "rss_mb_at_start", "rss_mb_at_rest", "idle_schedule_calls_per_10min",
            "idle_temporal_calls_per_10min", "idle_operator_cpu_seconds", "seconds_to_all_repaired")
    for side in ("sundial", "peer"):
        result[side] = {key: _median(figures(side, key)) for key in keys}
        result[side]["ratio_to_plain"] = ratio(side, "plain")
        result[side]["ratio_to_started"] = ratio(side, "started")
    result["load_average_1m"] = sorted(r[s]["load_average_1m_after"] for r in rounds for s in r)
    return result


ROWS = (("s to all created in Temporal (server's CreateSchedule count)", "seconds_to_all_created"),
        ("s to all Ready (Kubernetes status)", "seconds_to_all_ready"),
        ("schedules/s (to all Ready)", "throughput_per_s"),
        ("operator CPU s in that window", "operator_cpu_seconds_create"),
        ("operator CPU ms per schedule", "operator_cpu_ms_per_schedule"),
        ("RSS MB at start / at rest", "rss_mb_at_start"),
        ("Temporal schedule calls per idle 10 min", "idle_schedule_calls_per_10min"),
        ("all Temporal calls per idle 10 min", "idle_temporal_calls_per_10min"),
        ("operator CPU s in the idle window", "idle_operator_cpu_seconds"),
        ("10% deleted out of band: s to all back", "seconds_to_all_repaired"),
        ("ratio to the plain client (create only)", "ratio_to_plain"),
        ("ratio to the plain client that waits until started", "ratio_to_started"))


def markdown(n: int, result: dict[str, Any]) -> str:
    """The side-by-side table of one N's summary."""
    lines = [f"| N={n} (medians of {result['repeats']}) | Sundial | bmorton/temporal-operator |", "|---|---|---|"]
    for label, key in ROWS:
        cells = []
        for side in ("sundial", "peer"):
            value = result[side][key]
            if key == "rss_mb_at_start":
                value = f"{value} / {result[side]['rss_mb_at_rest']}"
            cells.append(str(value))
        lines.append(f"| {label} | {cells[0]} | {cells[1]} |")
    plain, started = result["plain"], result["started"]
    lines.append(f"\nplain client, create only: {plain['seconds']} s, {plain['throughput_per_s']}/s; "
                 f"plain client, create and wait until started: {started['seconds']} s, "
                 f"{started['throughput_per_s']}/s; 1-minute load average after each round: "
                 f"{', '.join(str(v) for v in result['load_average_1m'])}")
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    stack = PeerStack(peer=ensure_peer())
    print(f"starting the stack in {stack.workdir} ...", file=sys.stderr)
    stack.start()
    sides = [side for side in SIDES if side in args.sides.split(",")]
    results: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": _machine(),
                               "idle_window_seconds": args.idle, "sizes": {}}
    try:
        assert stack.temporal is not None
        temporal = await Client.connect(stack.temporal.address)
        deletes_before = stack.temporal_requests().get("DeleteSchedule", 0.0)
        await warm_up(temporal, WARM_UP)
        # the background window must not count the tail of the warm-up's deletes
        await asyncio.to_thread(wait_counted, stack.temporal_requests, "DeleteSchedule", deletes_before + WARM_UP)
        background = await background_requests(stack, args.background)
        results["temporal_background_per_10min"] = background
        for n in (int(size) for size in args.sizes.split(",") if size.strip()):
            rounds: list[dict[str, Figures]] = []
            results["sizes"][str(n)] = {"rounds": rounds}
            for repeat in range(args.repeats):
                rounds.append({})
                for side in sides[repeat % len(sides):] + sides[:repeat % len(sides)]:
                    started = time.monotonic()
                    figures = await one_round(stack, temporal, side, n, f"{n}-{repeat}", args, background)
                    figures["load_average_1m_after"] = round(os.getloadavg()[0], 2)
                    rounds[-1][side] = figures
                    print(f"N={n} repeat {repeat + 1}/{args.repeats} {side}: {time.monotonic() - started:.0f}s "
                          f"({figures.get('throughput_per_s')}/s)", file=sys.stderr)
                    results["sizes"][str(n)]["summary"] = summary(rounds)
                    if args.json:
                        args.json.write_text(json.dumps(results, indent=2))
    finally:
        stack.stop()
    return results


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    results = asyncio.run(run(args))
    for n, entry in results["sizes"].items():
        print(markdown(int(n), entry["summary"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
