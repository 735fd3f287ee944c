"""Fixtures shared by the integration tests (a real Temporal dev server: ``temporal_client`` in
``tests/conftest.py``). Test modules never import fixtures; helpers live in ``tests/support``."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator

import pytest
from temporalio.client import Client
from tests.support.in_process_worker import running_worker
from tests.support.memory_kube import MemoryKube

from sundial.adapters.temporal import TemporalGateway
from sundial.controller.context import OperatorContext
from sundial.settings import Settings


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


@pytest.fixture
def kube() -> MemoryKube:
    """The in-memory Kubernetes API (merge patches, resource versions)."""
    return MemoryKube()


@pytest.fixture
def ctx(gateway: TemporalGateway, kube: MemoryKube, cluster: str) -> OperatorContext:
    """An operator context over the real Temporal adapter and the in-memory Kubernetes API."""
    settings = Settings(allowed_task_queues=("*",))  # each test runs its own worker on its own queue
    return OperatorContext(settings=settings, temporal=gateway, kube=kube,
                           cluster_id=cluster, logger=logging.getLogger("test"))
