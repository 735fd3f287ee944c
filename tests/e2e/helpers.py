"""e2e helpers (no fixtures: those live in ``conftest.py``): the test side's Kubernetes client and waits.

``create_ready`` is the one "create a Schedule and wait until it is Ready" of the e2e tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from kubernetes import client
from tests.support.waiting import eventually

from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.operator_process import OperatorProcess, operator_env
from sundial.devstack.temporal_dev import TemporalDevServer
from sundial.devstack.webhook_certs import (
    BYPASS_LABEL,
    WebhookCerts,
    register_webhooks,
    unregister_webhooks,
    webhook_env,
)

REPO = Path(__file__).resolve().parents[2]
CRD_FILE = REPO / "crds" / "sundial.dev_schedules.yaml"
GROUP, VERSION, PLURAL = "sundial.dev", "v1alpha1", "schedules"
MANY_NAMESPACES, MANY_PER_NAMESPACE = 5, 42  # the ``many`` fixture: 210 schedules; the namespace quota is 50
RESYNC_SECONDS = 5
ACCOUNTING_SWEEPS = 'sundial_accounting_sweeps_total{result="ok"}'  # for ``wait_for_sweeps``
IDLE_SPEC = {"schedule": "0 9 * * *", "timeZone": "Europe/Berlin", "task": {"query": "idle"}}


class Kube:
    """Test-side reads and writes of Schedules, Events and namespaces."""

    def __init__(self, api: client.ApiClient):
        self.api = api
        self.custom = client.CustomObjectsApi(api)
        self.core = client.CoreV1Api(api)

    def new_namespace(self, webhook: bool = True) -> str:
        """A fresh namespace; ``webhook=False`` leaves it out of the admission webhooks (status checks only)."""
        name = f"t-{uuid.uuid4().hex[:8]}"
        labels = {} if webhook else dict([BYPASS_LABEL])
        self.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels=labels)))
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


def create_ready(kube: Kube, namespace: str, name: str, spec: dict[str, Any], timeout: float = 15.0,
                 annotations: dict[str, str] | None = None) -> dict[str, Any]:
    """Create a Schedule and wait until the operator reports it Ready; the Ready body."""
    kube.create(namespace, name, spec, annotations)
    return ready_body(kube, namespace, name, timeout=timeout)


def ready_body(kube: Kube, namespace: str, name: str, generation: int | None = None,
               timeout: float = 15.0) -> dict[str, Any]:
    """Wait until the Schedule is Ready (at ``generation`` when given); its body."""
    body = eventually(f"{namespace}/{name} Ready", lambda: ready(kube, namespace, name, generation), timeout=timeout)
    assert body is not None
    return body


def ready_schedule_id(kube: Kube, namespace: str, name: str, generation: int | None = None) -> str:
    """Wait for Ready (at ``generation``) with a Temporal schedule ID recorded; that ID."""
    def probe() -> str | None:
        body = ready(kube, namespace, name, generation)
        return str(((body or {}).get("status") or {}).get("temporal", {}).get("scheduleId") or "") or None
    return str(eventually(f"{namespace}/{name} Ready", probe, timeout=30))


def all_ready(kube: Kube, namespaces: list[str], per_namespace: int) -> bool:
    """Every namespace holds at least ``per_namespace`` Schedules, all Ready."""
    for namespace in namespaces:
        listing = cast(dict[str, Any], kube.custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL))
        items = listing["items"]
        if len(items) < per_namespace or any(condition(i, "Ready").get("status") != "True" for i in items):
            return False
    return True


def e2e_operator_env(control_plane: LocalControlPlane, temporal_server: TemporalDevServer,
                     **overrides: str) -> dict[str, str]:
    """The operator's environment in these tests: fast loops, this checkout importable."""
    settings = {"SUNDIAL_RESYNC_SECONDS": str(RESYNC_SECONDS), "SUNDIAL_RUNS_POLL_SECONDS": "1",
                "SUNDIAL_ALLOWED_TASK_QUEUES": "sundial-tasks,sundial-e2e-runs",  # tests.e2e.workers.TASK_QUEUE
                "SUNDIAL_TRIGGER_MIN_INTERVAL_MINS": "0",  # tests trigger runs back to back; the limit has its own test
                "PYTHONPATH": str(REPO),
                "SCHEDULE_MAX_PER_USER": "100000",  # every test's schedules have one creator: the admin
                **overrides}
    return operator_env(control_plane.kubeconfig, temporal_server.address, settings)


@dataclass
class AdmissionWebhooks:
    """The suite's webhook registration (127.0.0.1:``port``), lifted while no operator serves it."""

    kubectl: list[str]
    port: int
    certs: WebhookCerts

    @property
    def env(self) -> dict[str, str]:
        return webhook_env(self.port, self.certs)

    def register(self, finalizer: bool = True) -> None:
        """Both configurations; ``finalizer=False`` leaves out the finalizer webhook (kopf adds it then)."""
        register_webhooks(self.kubectl, self.port, self.certs, finalizer)

    def unregister(self) -> None:
        unregister_webhooks(self.kubectl)


class Replacements:
    """``replace_operator(name, extra_args=(...), SUNDIAL_X="...")``: stop whichever operator runs
    (one per cluster at a time) and start one with other flags or settings; a started ``OperatorProcess``."""

    def __init__(self, session: OperatorProcess, env: Callable[..., dict[str, str]], workdir: Path):
        self.session, self.env, self.workdir = session, env, workdir
        self.processes: list[OperatorProcess] = []

    def __call__(self, name: str, extra_args: tuple[str, ...] = ("--verbose",), scope: tuple[str, ...] = ("-A",),
                 **settings: str) -> OperatorProcess:
        for process in self.processes:
            process.stop(timeout=10)
        self.session.stop(timeout=10)
        process = OperatorProcess(self.workdir / name, self.env(**settings), extra_args=extra_args, scope=scope)
        self.processes.append(process)
        process.start()
        return process

    def restore(self) -> None:
        for process in self.processes:
            process.stop(timeout=10)
        if self.processes:
            self.session.start()
