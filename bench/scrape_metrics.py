"""How long a Prometheus scrape of the per-schedule metrics takes at 10,000 schedules.

``python -m bench.scrape_metrics [--schedules 10000] [--repeats 7]``. The entries are built
from realistic resource bodies (run counts, cost, conditions), as the operator's index holds
them; each scrape renders them all. The first scrape after a resource changed renders that
entry's lines (``cold``: every entry new); later scrapes reuse them (``warm``). Prints the
medians and exits non-zero when the warm median misses the 200 ms goal.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

from sundial.domain.schedule_metrics import metrics_from_body, render

GOAL_SECONDS = 0.2


def body(number: int) -> dict[str, Any]:
    """A Schedule body with a full status, as the operator's index sees it."""
    return {
        "metadata": {"namespace": f"team-{number % 50}", "name": f"schedule-{number}"},
        "spec": {"schedule": f"{number % 60} 9 * * *", "timeZone": "Asia/Tokyo",
                 "policy": {"maxConsecutiveFailures": 3, "maxTotalBudgetUSD": 100.0}},
        "status": {
            "temporal": {"scheduleId": f"sundial.0123456789ab.team-{number % 50}.schedule-{number}"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "Synced"},
                           {"type": "Paused", "status": "False", "reason": "Active"},
                           {"type": "Firing", "status": "True", "reason": "OnTime"}],
            "nextRunTime": "2026-12-16T00:00:00Z", "lastRunTime": "2026-12-15T00:00:02Z",
            "lastSuccessfulTime": "2026-12-15T00:02:30Z",
            "runs": {"total": 45, "succeeded": 43, "failed": 2, "consecutiveFailures": 0},
            "cost": {"totalUSD": 20.25 + number / 100},
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scrape_metrics", description=__doc__)
    parser.add_argument("--schedules", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    bodies = [body(n) for n in range(args.schedules)]
    cold: list[float] = []
    warm: list[float] = []
    size = 0
    for _ in range(args.repeats):
        entries = [metrics_from_body(b) for b in bodies]  # a fresh index: every entry renders its lines
        started = time.perf_counter()
        size = len(render(entries))
        cold.append(time.perf_counter() - started)
        started = time.perf_counter()
        render(entries)
        warm.append(time.perf_counter() - started)
    cold_ms, warm_ms = statistics.median(cold) * 1000, statistics.median(warm) * 1000
    print(f"schedules={args.schedules} exposition={size / 1e6:.1f} MB "
          f"scrape median: cold {cold_ms:.0f} ms, warm {warm_ms:.0f} ms (goal < {GOAL_SECONDS * 1000:.0f} ms)")
    return 0 if warm_ms < GOAL_SECONDS * 1000 else 1


if __name__ == "__main__":
    sys.exit(main())
