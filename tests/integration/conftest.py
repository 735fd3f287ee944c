"""Fixtures shared by the integration tests (a real Temporal dev server: ``temporal_client`` in
``tests/conftest.py``). Test modules never import fixtures; helpers live in ``tests/support``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from temporalio.client import Client
from tests.support.in_process_worker import running_worker

from sundial.adapters.temporal import TemporalGateway


@pytest.fixture
def gateway(temporal_client: Client) -> TemporalGateway:
    """The real Temporal adapter over the session's client."""
    return TemporalGateway(temporal_client)


@pytest.fixture
def cluster() -> str:
    """A cluster ID of its own per test, so schedule IDs never collide between tests."""
    return f"test-{uuid.uuid4()}"


@pytest.fixture
async def task_queue(temporal_client: Client) -> AsyncIterator[str]:
    """A reference worker with the scripted agent, in this process, on a task queue of its own."""
    async with running_worker(temporal_client) as queue:
        yield queue
