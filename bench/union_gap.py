"""``python -m bench.union_gap [--budget 1.0] [--repeats 3]``: how long the union's gap analysis takes.

``spec.schedules`` (up to 10 crons and ``@every`` intervals) is checked on every admission and
reconcile with :func:`sundial.domain.cron.union_gap`; these unions, in five zones with cold
caches, are measured and reported, and the exit code is 1 when a median is over the budget.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sundial.domain.cron import When, gap, parse_cron, parse_interval, union, union_gap

UNIONS = {
    "two crons 5 min apart": ["0 * * * *", "5 * * * *"],
    "weekdays and weekends": ["0 9 * * 1-5", "0 12 * * 6,0"],
    "cron and interval": ["0 */2 * * *", "@every 90m/15m"],
    "10 hourly crons": [f"{m} * * * *" for m in range(0, 60, 6)],
    "10 every-minute crons": ["* * * * *", *(f"{m}-59 * * * *" for m in range(1, 10))],
    "5 crons, 5 odd intervals": [*(f"{m} */2 * * *" for m in range(0, 50, 10)),
                                 *(f"@every {h}h{m}m/7m" for h, m in ((1, 7), (2, 11), (3, 13), (5, 17), (7, 19)))],
}
ZONES = ("Europe/Paris", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "America/Santiago")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def cold_seconds(texts: list[str], zone: str) -> float:
    """One analysis with the gap module's caches cleared first."""
    gap._gap.cache_clear()
    gap._transitions.cache_clear()
    union._union_gap.cache_clear()
    specs: list[When] = [parse_interval(t) if t.startswith("@every") else parse_cron(t) for t in texts]
    started = time.perf_counter()
    union_gap(specs, ZoneInfo(zone), NOW)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.union_gap", description=__doc__)
    parser.add_argument("--budget", type=float, default=1.0, help="seconds allowed per cold analysis (median)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print("| union | zone | median ms | max ms |\n|---|---|---|---|")
    over = []
    for zone in ZONES:
        for name, texts in UNIONS.items():
            runs = [cold_seconds(texts, zone) for _ in range(args.repeats)]
            median = statistics.median(runs)
            print(f"| {name} | {zone} | {median * 1000:.0f} | {max(runs) * 1000:.0f} |")
            if median > args.budget:
                over.append((name, zone, median))
    for name, zone, median in over:
        print(f"OVER BUDGET: {name} in {zone}: {median:.3f} s > {args.budget} s")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
