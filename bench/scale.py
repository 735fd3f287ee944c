"""``python -m bench.scale --n 10000``: one operator, N schedules, the costs that grow with N.

Not part of ``make test`` (at N=10,000 it takes most of an hour on 2 cores). On the bench's
real stack (``bench.stack``) it measures, in order, with one operator process:

1. time to all Ready: N ``Schedule`` resources created through the Kubernetes API by a bounded
   pool of threads (``--kube-threads``), until the operator counts N Active, then one list per
   namespace confirms Ready=True; the CPU and server-side requests of that phase;
2. RSS at rest (after two sweeps), the Temporal dev server's RSS and database size;
3. one idle sweep: its Temporal calls, Kubernetes reads/writes and duration (the operator's
   own figures) and what the servers counted over that sweep;
4. a restart (``bench.scale_phases.restart``): Temporal and Kubernetes calls and time until
   the operator is quiet again (every resource confirmed), and RSS after it;
5. drift repair: 1% of the Temporal schedules deleted out of band, time until all are back.

Readiness and sweeps are read from the operator's ``/metrics`` every ``POLL`` seconds, by
name only (``bench.scale_phases.light_metrics``): at N=10,000 the per-schedule series make
each scrape ~11 MB, which the 0.2 s polling of ``bench.rounds`` would turn into load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from temporalio.client import Client

from bench import scale_phases as ph
from bench import workload as wl
from bench.cli import _machine
from bench.rounds import cpu_snapshot, delta, per_schedule, warm_up
from bench.stack import BenchStack, rss_bytes
from sundial.devstack.operator_process import OperatorProcess


def _mb(pid: int | None) -> float:
    return round(rss_bytes(pid) / 2**20, 1)


async def create_phase(stack: BenchStack, operator: OperatorProcess, keys: list[tuple[str, str]],
                       threads: int) -> ph.Figures:
    n, api = len(keys), stack.kube_api(pool=threads)
    cpu_before, temporal_before, kube_before = cpu_snapshot(stack, operator), stack.temporal_requests(), \
        stack.apiserver_requests()
    started = time.monotonic()
    creates = ph.start_creates(api, keys, threads)
    marks = await asyncio.to_thread(ph.wait_active, operator, n, started, creates)
    to_ready = time.monotonic() - started
    kube_seconds = creates.result()
    cpu_after, temporal_after, kube_after = cpu_snapshot(stack, operator), stack.temporal_requests(), \
        stack.apiserver_requests()
    ready = await asyncio.to_thread(wl.count_ready, api, keys)
    return {"seconds_to_all_ready": round(to_ready, 1), "per_s": round(n / to_ready, 1),
            "kube_create_seconds": round(kube_seconds, 1), "ready_confirmed": ready,
            "active_after_seconds": marks,
            "cpu_seconds": delta(cpu_after, cpu_before),
            "cpu_ms_per_schedule": {k: round(1000 * v / n, 1) for k, v in delta(cpu_after, cpu_before).items()},
            "temporal_requests_per_schedule": per_schedule(temporal_after, temporal_before, n),
            "kubernetes_requests_per_schedule": per_schedule(kube_after, kube_before, n)}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    stack = BenchStack()
    print(f"starting the stack in {stack.workdir} ...", file=sys.stderr)
    stack.start()
    n = args.n
    results: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": _machine(),
                               "n": n, "resync_seconds": args.resync, "kube_threads": args.kube_threads}

    def save() -> None:
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))

    try:
        assert stack.temporal is not None
        temporal = await Client.connect(stack.temporal.address)
        await warm_up(temporal)
        keys = wl.names(n, "scale")
        wl.create_namespaces(stack.kube_api(), keys)
        operator = stack.operator("operator-scale", SUNDIAL_RESYNC_SECONDS=str(args.resync),
                                  SCHEDULE_MAX_PER_NAMESPACE=str(wl.PER_NAMESPACE),
                                  SCHEDULE_MAX_PER_USER=str(n + 1), **dict(e.split("=", 1) for e in args.operator_env))
        operator.start()
        results["operator_rss_mb_at_start"] = _mb(operator.pid)
        try:
            phases: tuple[tuple[str, Callable[[], Awaitable[ph.Figures]]], ...] = (
                ("create", lambda: create_phase(stack, operator, keys, args.kube_threads)),
                ("rest", lambda: ph.at_rest(stack, operator, args.resync)),
                ("idle_sweep", lambda: ph.idle_sweep(stack, operator, args.resync)),
                ("restart", lambda: ph.restart(stack, operator, n, args.resync, args.quiet)),
                ("drift", lambda: ph.drift(stack, operator, temporal, keys, args.resync, args.every)))
            for name, phase in phases:
                started = time.monotonic()
                results[name] = await phase()
                results[name]["load_average_1m_after"] = round(os.getloadavg()[0], 2)
                print(f"{name}: {time.monotonic() - started:.0f} s {json.dumps(results[name])[:400]}",
                      file=sys.stderr)
                save()
        finally:
            operator.stop()
    finally:
        save()
        if args.json:  # the operator's logs go with the stack's folder: keep them beside the figures
            for log in stack.workdir.glob("operator-scale/*.log"):
                shutil.copy(log, args.json.with_name(f"{args.json.stem}-{log.name}"))
        stack.stop()  # the resources and schedules go with the stack's folder: no cleanup to measure
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="number of schedules (default 10000)")
    parser.add_argument("--resync", type=float, default=60.0, help="SUNDIAL_RESYNC_SECONDS (default: the default, 60)")
    parser.add_argument("--kube-threads", type=int, default=wl.CONCURRENCY, help="threads creating resources")
    parser.add_argument("--every", type=int, default=100, help="delete every EVERY-th schedule (100: 1%%)")
    parser.add_argument("--quiet", type=float, default=20.0,
                        help="after a restart: seconds without a per-schedule call that mean 'confirmed'")
    parser.add_argument("--operator-env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--json", type=Path, default=None, help="write every figure here (after each phase)")
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
