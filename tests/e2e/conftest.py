"""e2e fixtures: the operator (and the reference worker) as separate processes against the real stack."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
from kubernetes import client, config

from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.processes import ManagedProcess, free_port, wait_until
from sundial.devstack.temporal_dev import TemporalDevServer

REPO = Path(__file__).resolve().parents[2]
CRD_FILE = REPO / "crds" / "sundial.dev_schedules.yaml"
GROUP, VERSION, PLURAL = "sundial.dev", "v1alpha1", "schedules"


@dataclass
class OperatorProcess:
    """``sundial run`` in its own process; restartable and killable like a real pod."""

    workdir: Path
    env: dict[str, str]
    liveness_port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    proc: ManagedProcess | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        argv = [sys.executable, "-m", "sundial.cli", "run", "-A", "--verbose",
                "--liveness-port", str(self.liveness_port), "--metrics-port", str(self.metrics_port)]
        self.proc = ManagedProcess("operator", argv, self.workdir / f"operator-{self.starts}.log", env=self.env)
        self.proc.start()
        wait_until("operator liveness", self._alive, 60, watch=[self.proc], interval=0.2)

    def _alive(self) -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.liveness_port}/healthz", timeout=1) as resp:
            return bool(resp.status == 200)

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as resp:
            text: str = resp.read().decode()
            return text

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()

    def kill(self) -> None:
        if self.proc:
            self.proc.kill()

    def log(self) -> str:
        return "\n".join((self.workdir / f"operator-{n}.log").read_text(errors="replace")
                         for n in range(1, self.starts + 1))


def operator_env(control_plane: LocalControlPlane, temporal_server: TemporalDevServer,
                 **overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "KUBECONFIG": str(control_plane.kubeconfig),
        "SUNDIAL_TEMPORAL_ADDRESS": temporal_server.address,
        "SUNDIAL_RESYNC_SECONDS": "5",
        "SUNDIAL_RUNS_POLL_SECONDS": "1",
        "PYTHONPATH": str(REPO),
        "PYTHONUNBUFFERED": "1",
    })
    env.update(overrides)
    return env


@pytest.fixture(scope="session")
def crds(control_plane: LocalControlPlane) -> None:
    """The committed CRD, installed on the real apiserver."""
    kubectl = [str(control_plane.binaries.kubectl), "--kubeconfig", str(control_plane.kubeconfig)]
    for args in (["apply", "--server-side", "-f", str(CRD_FILE)],
                 ["wait", "--for=condition=Established", "crd/schedules.sundial.dev", "--timeout=30s"]):
        result = subprocess.run([*kubectl, *args], capture_output=True, text=True)
        assert result.returncode == 0, f"kubectl {' '.join(args)} failed: {result.stderr}"


@pytest.fixture(scope="session")
def operator(control_plane: LocalControlPlane, temporal_server: TemporalDevServer, crds: None,
             stack_dir: Path) -> Iterator[OperatorProcess]:
    workdir = stack_dir / "operator"
    workdir.mkdir(exist_ok=True)
    process = OperatorProcess(workdir, operator_env(control_plane, temporal_server))
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def kube_api(control_plane: LocalControlPlane) -> client.ApiClient:
    api = config.new_client_from_config(config_file=str(control_plane.kubeconfig))  # type: ignore[no-untyped-call]
    return cast(client.ApiClient, api)


class Kube:
    """Test-side reads and writes of Schedules, Events and namespaces."""

    def __init__(self, api: client.ApiClient):
        self.api = api
        self.custom = client.CustomObjectsApi(api)
        self.core = client.CoreV1Api(api)

    def new_namespace(self) -> str:
        name = f"t-{uuid.uuid4().hex[:8]}"
        self.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
        return name

    def create(self, namespace: str, name: str, spec: dict[str, Any],
               annotations: dict[str, str] | None = None) -> dict[str, Any]:
        body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Schedule",
                "metadata": {"name": name, "namespace": namespace, "annotations": annotations or {}},
                "spec": spec}
        return cast(dict[str, Any], self.custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL,
                                                                                body))

    def get(self, namespace: str, name: str) -> dict[str, Any]:
        return cast(dict[str, Any], self.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name))

    def exists(self, namespace: str, name: str) -> bool:
        try:
            self.get(namespace, name)
        except client.ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def patch_spec(self, namespace: str, name: str, spec: dict[str, Any]) -> None:
        self.custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name, {"spec": spec})

    def delete(self, namespace: str, name: str) -> None:
        self.custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)

    def events(self, namespace: str, name: str) -> list[client.CoreV1Event]:
        items: list[client.CoreV1Event] = self.core.list_namespaced_event(
            namespace, field_selector=f"involvedObject.name={name}").items
        return items

    def event_reasons(self, namespace: str, name: str) -> list[str]:
        return [str(event.reason) for event in self.events(namespace, name)]


@pytest.fixture(scope="session")
def kube(kube_api: client.ApiClient) -> Kube:
    return Kube(kube_api)


def condition(body: dict[str, Any], type_: str) -> dict[str, Any]:
    for cond in (body.get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_:
            found: dict[str, Any] = cond
            return found
    return {}


def ready(kube: Kube, namespace: str, name: str, generation: int | None = None) -> dict[str, Any] | None:
    """The body once Ready=True (at ``generation`` when given), else None."""
    body = kube.get(namespace, name)
    status = body.get("status") or {}
    if condition(body, "Ready").get("status") != "True":
        return None
    if generation is not None and status.get("observedGeneration") != generation:
        return None
    return body


def eventually(what: str, probe: Callable[[], Any], timeout: float = 15.0, interval: float = 0.2) -> Any:
    """Poll until ``probe()`` returns something truthy; fail with ``what`` and the last value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"not within {timeout:g}s: {what} (last: {last!r})")
