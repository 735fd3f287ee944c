"""Status writes against the real kube-apiserver: no writer loses another's condition (the 409 path),
and the Kubernetes API's errors arrive as Sundial's own exceptions."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from kubernetes import client, config
from tests.e2e.helpers import Kube

from sundial.adapters.kube import KubeGateway, ScheduleResourceNotFound
from sundial.controller.context import OperatorContext
from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.operator_process import OperatorProcess
from sundial.devstack.processes import free_port
from sundial.domain import conditions as cond
from sundial.domain import status as st
from sundial.domain.status import Status
from sundial.errors import KubeConflict, KubeForbidden, KubeNotFound, KubeUnavailable
from sundial.settings import Settings

SPEC = {"schedule": "0 9 * * *", "task": {"query": "q"}}
T0 = "2026-12-01T00:00:00Z"


class CountingGateway(KubeGateway):
    """The real gateway, counting the conflicts the apiserver answered."""

    conflicts = 0

    async def patch_status(self, namespace: str, name: str, status: Status,
                           resource_version: str | None = None) -> str | None:
        try:
            return await super().patch_status(namespace, name, status, resource_version)
        except KubeConflict:
            self.conflicts += 1
            raise


@pytest.fixture
def api(control_plane: LocalControlPlane, crds: None) -> Iterator[client.ApiClient]:
    """The apiserver with no operator writing to it: the writers here are the test's own (an e2e
    operator of the same pytest session is stopped for the test and started again)."""
    stopped = [process for process in OperatorProcess.live if process.proc is not None and process.proc.running()]
    for process in stopped:
        process.stop()
    try:
        yield config.new_client_from_config(config_file=str(control_plane.kubeconfig))  # type: ignore[no-untyped-call]
    finally:
        for process in stopped:
            process.start()


def context(kube: KubeGateway) -> OperatorContext:
    return OperatorContext(settings=Settings(), temporal=None, kube=kube, cluster_id="c",  # type: ignore[arg-type]
                           logger=logging.getLogger("test"))


def seeded(api: client.ApiClient) -> tuple[str, dict[str, Any]]:
    kube = Kube(api)
    namespace = kube.new_namespace(webhook=False)  # no operator runs here to serve the webhooks
    kube.create(namespace, "s", SPEC)
    conditions = st.with_condition([], cond.READY, True, cond.SYNCED, "", 1, datetime.fromisoformat(T0))
    conditions = st.with_condition(conditions, cond.FIRING, True, cond.ON_TIME, "", 1, datetime.fromisoformat(T0))
    client.CustomObjectsApi(api).patch_namespaced_custom_object_status(
        "sundial.dev", "v1alpha1", namespace, "schedules", "s",
        {"status": {"phase": "Active", "conditions": conditions, "temporal": {"scheduleId": "x"}}})
    return namespace, kube.get(namespace, "s")


async def test_two_writers_of_conditions_both_keep_their_condition(api: client.ApiClient) -> None:
    namespace, read_by_reconcile = seeded(api)
    now = datetime.fromisoformat("2026-12-01T01:00:00+00:00")
    # the sweeper's watchdog reads the same version and writes Firing=False first
    watchdog = context(CountingGateway(api))
    read_by_watchdog = Kube(api).get(namespace, "s")
    before = st.status_of(read_by_watchdog).copy()
    overdue = st.with_condition(before["conditions"], cond.FIRING, False, cond.OVERDUE, "late", 1, now)
    await watchdog.write_status(read_by_watchdog, before, {**before, "conditions": overdue})
    # the reconcile, working from its older read, then writes Ready=False and phase Error
    gateway = CountingGateway(api)
    reconcile = context(gateway)
    previous = st.status_of(read_by_reconcile).copy()
    await reconcile.write_status(read_by_reconcile, previous,
                                 st.unavailable_status(previous, 1, "Temporal away", now))

    final = Kube(api).get(namespace, "s")["status"]
    by_type = {c["type"]: c for c in final["conditions"]}
    assert (by_type["Firing"]["status"], by_type["Firing"]["reason"]) == ("False", "Overdue")  # not lost
    assert (by_type["Ready"]["status"], by_type["Ready"]["reason"]) == ("False", "TemporalUnavailable")
    assert final["phase"] == "Error"
    assert gateway.conflicts == 1  # the apiserver refused the stale write once; the rebased one landed


def service_account_token(control_plane: LocalControlPlane, namespace: str) -> str:
    """A token of a new service account that RBAC grants nothing."""
    kubectl = [str(control_plane.binaries.kubectl), "--kubeconfig", str(control_plane.kubeconfig)]
    subprocess.run([*kubectl, "create", "serviceaccount", "nobody", "-n", namespace], check=True,
                   capture_output=True, timeout=30)
    return subprocess.run([*kubectl, "create", "token", "nobody", "-n", namespace], check=True,
                          capture_output=True, text=True, timeout=30).stdout.strip()


async def test_kubernetes_errors_arrive_as_sundials_own(api: client.ApiClient,
                                                        control_plane: LocalControlPlane) -> None:
    namespace, body = seeded(api)
    gateway = KubeGateway(api)
    with pytest.raises(ScheduleResourceNotFound) as missing:
        await gateway.get_schedule(namespace, "nope")
    assert isinstance(missing.value, KubeNotFound)
    await gateway.patch_status(namespace, "s", {"phase": "Paused"})
    with pytest.raises(KubeConflict):
        await gateway.patch_status(namespace, "s", {"phase": "Active"},
                                   resource_version=body["metadata"]["resourceVersion"])
    assert await gateway.patch_status(namespace, "gone", {"phase": "Active"}) is None  # gone: not an error

    token = service_account_token(control_plane, namespace)
    settings = client.Configuration()
    config.load_kube_config(config_file=str(control_plane.kubeconfig),  # type: ignore[no-untyped-call]
                            client_configuration=settings)
    settings.cert_file = settings.key_file = None
    settings.refresh_api_key_hook = None  # else it puts the kubeconfig's admin token back
    settings.api_key, settings.api_key_prefix = {"BearerToken": f"Bearer {token}"}, {}
    with pytest.raises(KubeForbidden):
        await KubeGateway(client.ApiClient(settings)).get_schedule(namespace, "s")

    nobody_home = client.Configuration()
    nobody_home.host = f"http://127.0.0.1:{free_port()}"
    nobody_home.retries = 0
    with pytest.raises(KubeUnavailable):
        await KubeGateway(client.ApiClient(nobody_home)).get_schedule(namespace, "s")
