"""The reference worker in the test process, on a task queue of its own (integration tests)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio.client import Client
from tests.support.scripted_agent import scripted_agent

from sundial.worker.agents import Agent
from sundial.worker.runner import run_worker


@asynccontextmanager
async def running_worker(
    client: Client, agent: str | Agent = scripted_agent, queue: str | None = None, allowed: tuple[str, ...] = ()
) -> AsyncIterator[str]:
    """An in-process worker on ``queue`` (default a fresh one) allowing the restricted operations
    ``allowed``; yields the queue."""
    queue = queue or f"worker-test-{uuid.uuid4().hex[:10]}"
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(client, queue, agent, stop, graceful_shutdown=timedelta(seconds=5),
                                          allowed_operations=allowed))
    try:
        yield queue
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
