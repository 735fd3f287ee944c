"""e2e fixtures: the operator (``sundial.devstack.operator_process``) and the reference worker as
separate processes against the real stack. Every fixture lives here; test modules import
helpers (``tests.e2e.helpers``, ``tests.e2e.workers``), never fixtures.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from kubernetes import client, config
from tests.e2e.helpers import (
    IDLE_SPEC,
    MANY_NAMESPACES,
    MANY_PER_NAMESPACE,
    REPO,
    AdmissionWebhooks,
    Kube,
    Replacements,
    all_ready,
    e2e_operator_env,
)
from tests.e2e.workers import SUNDIAL, TASK_QUEUE, WorkerProcess
from tests.support.waiting import eventually

from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.operator_process import OperatorProcess
from sundial.devstack.processes import ManagedProcess, free_port, wait_until
from sundial.devstack.temporal_dev import TemporalDevServer
from sundial.devstack.webhook_certs import generate_certs


@pytest.fixture(scope="session")
def admission_webhooks(control_plane: LocalControlPlane, crds: None, stack_dir: Path) -> AdmissionWebhooks:
    """A CA and serving certificate, and both webhook configurations pointing at 127.0.0.1:<port>.

    The port and files go into this process's environment, so every operator a test starts
    (``operator_env`` copies it) serves the webhooks the apiserver calls.
    """
    kubectl = [str(control_plane.binaries.kubectl), "--kubeconfig", str(control_plane.kubeconfig)]
    webhooks = AdmissionWebhooks(kubectl, free_port(), generate_certs(stack_dir / "webhook-certs"))
    webhooks.register()
    os.environ.update(webhooks.env)
    return webhooks


@pytest.fixture(scope="session")
def operator(control_plane: LocalControlPlane, temporal_server: TemporalDevServer, crds: None,
             admission_webhooks: AdmissionWebhooks, stack_dir: Path) -> Iterator[OperatorProcess]:
    """The session's operator, with ``--verbose`` logs."""
    process = OperatorProcess(stack_dir / "operator", e2e_operator_env(control_plane, temporal_server),
                              extra_args=("--verbose",))
    process.start()
    yield process
    process.stop(timeout=10)


@pytest.fixture
def replace_operator(operator: OperatorProcess, control_plane: LocalControlPlane,
                     temporal_server: TemporalDevServer, stack_dir: Path) -> Iterator[Replacements]:
    """Operators with other settings for one test, in place of the session's; it comes back after."""
    replacements = Replacements(operator, functools.partial(e2e_operator_env, control_plane, temporal_server),
                                stack_dir / "replacements")
    try:
        yield replacements
    finally:
        replacements.restore()


@pytest.fixture(scope="session")
def kube_api(control_plane: LocalControlPlane) -> client.ApiClient:
    api = config.new_client_from_config(config_file=str(control_plane.kubeconfig))  # type: ignore[no-untyped-call]
    return cast(client.ApiClient, api)


@pytest.fixture(scope="session")
def kube(kube_api: client.ApiClient) -> Kube:
    return Kube(kube_api)


@pytest.fixture(scope="session")
def worker(temporal_server: TemporalDevServer, stack_dir: Path) -> Iterator[WorkerProcess]:
    """``sundial worker`` with the scripted agent (``tests/support``) on ``TASK_QUEUE``: one per session."""
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'tests'}", "PYTHONUNBUFFERED": "1"}
    argv = [*SUNDIAL, "worker", "--agent", "tests.support.scripted_agent:scripted_agent",
            "--address", temporal_server.address, "--task-queue", TASK_QUEUE, "--graceful-shutdown-seconds", "2"]
    proc = ManagedProcess("worker", argv, stack_dir / "worker.log", env=env)
    proc.start()
    process = WorkerProcess(proc)
    wait_until("worker polling", lambda: f"task queue {TASK_QUEUE}" in process.log(), 60, watch=[proc])
    yield process
    proc.stop()


@pytest.fixture(scope="module")
def many(operator: OperatorProcess, kube: Kube) -> Iterator[list[str]]:
    """210 Ready Schedules in 5 namespaces (their names), deleted again after the module."""
    namespaces = [kube.new_namespace() for _ in range(MANY_NAMESPACES)]
    for namespace in namespaces:
        for n in range(MANY_PER_NAMESPACE):
            kube.create(namespace, f"idle-{n}", IDLE_SPEC)
    eventually("all 210 Ready", lambda: all_ready(kube, namespaces, MANY_PER_NAMESPACE), timeout=180, interval=1)
    yield namespaces
    for namespace in namespaces:
        for n in range(MANY_PER_NAMESPACE):
            kube.delete(namespace, f"idle-{n}")
