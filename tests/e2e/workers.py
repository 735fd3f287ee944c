"""e2e helpers for runs (the ``worker`` fixture is in conftest): schedules whose runs do as told.

The worker runs ``sundial worker`` with the scripted test agent (``tests/support``): a
run's outcome, cost and tokens follow from its query, so a test changes
``spec.task.query`` between runs and triggers them one by one.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client, ScheduleActionStartWorkflow, WorkflowExecution
from tests.e2e.helpers import REPO, Kube, ready_schedule_id
from tests.support.waiting import eventually_async

from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.processes import ManagedProcess
from sundial.devstack.temporal_dev import TemporalDevServer

TASK_QUEUE = "sundial-e2e-runs"
SUNDIAL = [sys.executable, "-m", "sundial.cli"]
NEVER = "0 0 1 1 *"  # a schedule that does not fire during a test: runs come from triggers


@dataclass
class WorkerProcess:
    """``sundial worker`` with the scripted agent on ``TASK_QUEUE``."""

    proc: ManagedProcess

    def log(self) -> str:
        return self.proc.log_path.read_text(errors="replace")


def cli_env(control_plane: LocalControlPlane, temporal_server: TemporalDevServer) -> dict[str, str]:
    return {**os.environ, "KUBECONFIG": str(control_plane.kubeconfig),
            "SUNDIAL_TEMPORAL_ADDRESS": temporal_server.address, "PYTHONPATH": str(REPO)}


def sundial(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SUNDIAL, *args], env=env, capture_output=True, text=True, timeout=120)


def run_spec(query: str, **extra: Any) -> dict[str, Any]:
    """A schedule on the worker's task queue that only runs when triggered."""
    return {"schedule": NEVER, "task": {"query": query}, "workflow": {"taskQueue": TASK_QUEUE}, **extra}


def status_of(kube: Kube, namespace: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = kube.get(namespace, name).get("status") or {}
    return found


async def executions(client: Client, schedule_id: str) -> list[WorkflowExecution]:
    """The schedule's runs as Temporal lists them, newest start first."""
    listed = [e async for e in client.list_workflows(f"TemporalScheduledById = '{schedule_id}'")]
    return sorted(listed, key=lambda e: (e.start_time, e.run_id), reverse=True)


async def closed_count(client: Client, schedule_id: str) -> int:
    return sum(1 for e in await executions(client, schedule_id) if e.close_time is not None)


async def set_query(kube: Kube, client: Client, namespace: str, name: str, query: str) -> None:
    """Edit ``spec.task.query`` and wait until Temporal's schedule starts runs with it."""
    kube.patch_spec(namespace, name, {"task": {"query": query}})
    sid = ready_schedule_id(kube, namespace, name)

    async def applied() -> bool:
        action = (await client.get_schedule_handle(sid).describe()).schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        args = client.data_converter.payload_converter.from_payloads(list(action.args))
        return bool(args and args[0].get("task_query") == query)

    await eventually_async(f"query {query!r} in Temporal", applied, timeout=60)


async def trigger_and_wait(client: Client, schedule_id: str, env: dict[str, str] | None = None,
                           namespace: str = "", name: str = "") -> None:
    """Start one run (by ``sundial trigger`` when ``env`` is given, else in Temporal) and wait
    until it closed. A run's ID holds the second it started: one trigger per second."""
    before = await closed_count(client, schedule_id)
    second = int(time.time())
    await eventually_async("the next second", lambda: asyncio.sleep(0, int(time.time()) > second), timeout=3)
    if env is not None:
        done = sundial(env, "trigger", name, "-n", namespace)
        assert done.returncode == 0, done.stdout + done.stderr
    else:
        await client.get_schedule_handle(schedule_id).trigger()

    async def closed() -> bool:
        return await closed_count(client, schedule_id) > before

    await eventually_async(f"a run of {schedule_id} closed", closed, timeout=60)

