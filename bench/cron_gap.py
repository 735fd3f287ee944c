"""``python -m bench.cron_gap [--budget 0.25] [--repeats 5]``: how long the gap analysis takes.

The minimum-interval rule runs :func:`sundial.domain.cron.minimum_gap` on every admission and
reconcile, so a common cron must be analysed quickly even with cold caches. This was a
wall-clock assertion in the unit tests (flaky on a busy machine); here it is measured on its
own and reported, and the exit code is 1 when a median is over the budget.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sundial.domain.cron import gap, minimum_gap, parse_cron

COMMON = ("*/5 * * * *", "0 9 * * 1-5", "0 */2 * * *", "30 1,2 * * *", "0 0 1 * *", "0 12 * * 0")
ZONES = ("Europe/Paris", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "America/Santiago")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def cold_seconds(expression: str, zone: str) -> float:
    """One analysis with every cache of the gap module cleared first."""
    gap._gap.cache_clear()
    gap._transitions.cache_clear()
    cron, tz = parse_cron(expression), ZoneInfo(zone)
    started = time.perf_counter()
    minimum_gap(cron, tz, NOW)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cron_gap", description=__doc__)
    parser.add_argument("--budget", type=float, default=0.25, help="seconds allowed per cold analysis (median)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print("| cron | zone | median ms | max ms |\n|---|---|---|---|")
    over = []
    for zone in ZONES:
        for expression in COMMON:
            runs = [cold_seconds(expression, zone) for _ in range(args.repeats)]
            median = statistics.median(runs)
            print(f"| `{expression}` | {zone} | {median * 1000:.1f} | {max(runs) * 1000:.1f} |")
            if median > args.budget:
                over.append((expression, zone, median))
    for expression, zone, median in over:
        print(f"OVER BUDGET: {expression} in {zone}: {median:.3f} s > {args.budget} s")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
