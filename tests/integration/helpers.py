"""Helpers of the integration tests (fixtures are in ``conftest.py``): runs started by hand, and
Schedule resources reconciled into a real Temporal through the in-memory Kubernetes API."""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

from temporalio.client import Client
from tests.support.memory_kube import MemoryKube
from tests.support.waiting import eventually_async

from sundial.adapters.temporal import TemporalGateway
from sundial.controller.context import OperatorContext
from sundial.controller.reconcile import reconcile
from sundial.domain.validation import Peers


async def next_second() -> None:
    """Wait for the clock's next whole second."""
    second = int(time.time())
    await eventually_async("the next second", lambda: asyncio.sleep(0, int(time.time()) > second), timeout=2,
                           interval=0.1)


async def runs_of(client: Client, schedule_id: str, closed: bool = True) -> list[str]:
    condition = "ExecutionStatus != 'Running'" if closed else "ExecutionStatus = 'Running'"
    query = f"TemporalScheduledById = '{schedule_id}' AND {condition}"
    return [execution.run_id async for execution in client.list_workflows(query)]


async def trigger(gateway: TemporalGateway, client: Client, schedule_id: str, closed_runs: int = 1) -> None:
    """Start one run and wait until ``closed_runs`` more closed runs are visible (runs whose ID is the
    schedule ID plus the second they start: one trigger per second)."""
    before = len(await runs_of(client, schedule_id))
    await next_second()
    await gateway.trigger(schedule_id)

    async def closed() -> bool:
        return len(await runs_of(client, schedule_id)) >= before + closed_runs

    await eventually_async(f"{closed_runs} more closed runs of {schedule_id}", closed, timeout=30, interval=0.1)


async def add_schedule(ctx: OperatorContext, kube: MemoryKube, name: str, task_queue: str, query: str,
                       **spec: Any) -> str:
    """A Schedule resource, reconciled into a Temporal schedule the way the operator does it."""
    body = kube.add("team-a", name, {"schedule": "0 9 * * *", "paused": False, "task": {"query": query},
                                     "workflow": {"taskQueue": task_queue}, **spec})
    await reconcile(ctx, body, Peers())
    return ctx.identity(body).schedule_id


async def set_query(ctx: OperatorContext, kube: MemoryKube, name: str, query: str) -> None:
    """A spec edit (the next runs do what ``query`` says), reconciled."""
    body = kube.bodies["team-a", name]
    body["spec"]["task"]["query"] = query
    body["metadata"]["generation"] += 1
    await reconcile(ctx, copy.deepcopy(body), Peers())
