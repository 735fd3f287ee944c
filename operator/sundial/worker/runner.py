"""Run the reference worker inside a running event loop.

``sundial worker`` (``command.py``), ``sundial dev`` and the tests all start the worker
through ``run_worker``: it polls one task queue for ``ScheduledTaskWorkflow`` and the
agent activity until ``stop`` is set (or the caller's task is cancelled), then shuts
down gracefully, letting running agents finish within ``graceful_shutdown``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from temporalio.worker import Worker

from sundial.worker.activities import AgentActivities
from sundial.worker.agents import DEMO_AGENT_REF, Agent, load_agent
from sundial.worker.workflow import ScheduledTaskWorkflow

if TYPE_CHECKING:
    from temporalio.client import Client

log = logging.getLogger(__name__)

#: Agent runs one worker executes at a time (each is usually a slow, paid model call).
DEFAULT_MAX_CONCURRENT_ACTIVITIES: Final = 20
#: How long a stopping worker lets running agents finish (Kubernetes waits 30 s by default).
DEFAULT_GRACEFUL_SHUTDOWN: Final = timedelta(seconds=20)


def build_worker(
    client: Client,
    task_queue: str,
    agent: str | Agent = DEMO_AGENT_REF,
    *,
    max_concurrent_activities: int = DEFAULT_MAX_CONCURRENT_ACTIVITIES,
    graceful_shutdown: timedelta = DEFAULT_GRACEFUL_SHUTDOWN,
    allowed_operations: Sequence[str] = (),
) -> Worker:
    """A Temporal worker for the reference workflow; ``agent`` is a callable or ``module:function``.

    ``allowed_operations``: the restricted operations its runs may perform (none by default).
    """
    callable_agent = load_agent(agent) if isinstance(agent, str) else agent
    activities = AgentActivities(callable_agent, allowed_operations)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[ScheduledTaskWorkflow],
        activities=[activities.run_agent, activities.allowed_operations],
        max_concurrent_activities=max_concurrent_activities,
        graceful_shutdown_timeout=graceful_shutdown,
    )


async def run_worker(
    client: Client,
    task_queue: str,
    agent: str | Agent = DEMO_AGENT_REF,
    stop: asyncio.Event | None = None,
    *,
    max_concurrent_activities: int = DEFAULT_MAX_CONCURRENT_ACTIVITIES,
    graceful_shutdown: timedelta = DEFAULT_GRACEFUL_SHUTDOWN,
    allowed_operations: Sequence[str] = (),
) -> None:
    """Poll ``task_queue`` until ``stop`` is set or this task is cancelled; then shut down.

    Raises what the worker raised when it failed on its own (e.g. an unknown namespace).
    """
    worker = build_worker(client, task_queue, agent, max_concurrent_activities=max_concurrent_activities,
                          graceful_shutdown=graceful_shutdown, allowed_operations=allowed_operations)
    stop = stop or asyncio.Event()
    running = asyncio.create_task(worker.run(), name=f"sundial-worker-{task_queue}")
    stopping = asyncio.create_task(stop.wait(), name=f"sundial-worker-stop-{task_queue}")
    try:
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not running.done():
            log.info("worker on task queue %s stopping", task_queue)
            # shield: a second cancellation must not cut the graceful shutdown short
            await asyncio.shield(_shutdown(worker, running))
    running.result()  # re-raise a worker that failed by itself


async def _shutdown(worker: Worker, running: asyncio.Task[None]) -> None:
    await worker.shutdown()
    with contextlib.suppress(asyncio.CancelledError):
        await running
