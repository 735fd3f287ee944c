"""Two operator processes with kopf peering on one apiserver and one Temporal: one works, one stands by.

kopf pauses the handlers of the standby; Sundial's own loops (the drift sweeper, run accounting)
must stand by too, or both processes repair the same drift, count the same runs and delete the
same orphans. The peering CRDs are the chart's (``helm/sundial/crds``).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from temporalio.client import Client
from tests.e2e.helpers import REPO, RESYNC_SECONDS, Kube, Replacements, create_ready, e2e_operator_env
from tests.e2e.test_drift_repair import exists, warnings
from tests.e2e.test_schedule_lifecycle import EXAMPLE_SPEC
from tests.support.waiting import eventually, eventually_async

from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.operator_process import OperatorProcess
from sundial.devstack.processes import free_port
from sundial.devstack.temporal_dev import TemporalDevServer

PEERING = "sundial-e2e-peering"
SWEEPS = 'sundial_sweeps_total{result="ok"}'
ACCOUNTING = 'sundial_accounting_sweeps_total{result="ok"}'
MISSING = 'sundial_drift_repairs_total{kind="missing"}'
ACTIVE = "sundial_active_peer"


def kubectl(control_plane: LocalControlPlane, *args: str, stdin: str | None = None) -> str:
    argv = [str(control_plane.binaries.kubectl), "--kubeconfig", str(control_plane.kubeconfig), *args]
    result = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result.stdout


def install_peering(control_plane: LocalControlPlane) -> None:
    """The chart's peering CRDs and one ClusterKopfPeering, as ``peering.enabled=true`` ships them."""
    crds = REPO / "helm" / "sundial" / "crds" / "kopf-peering.yaml"
    kubectl(control_plane, "apply", "--server-side", "-f", str(crds))
    kubectl(control_plane, "wait", "--for=condition=Established", "crd/clusterkopfpeerings.kopf.dev", "--timeout=30s")
    kubectl(control_plane, "apply", "-f", "-", stdin=json.dumps(
        {"apiVersion": "kopf.dev/v1", "kind": "ClusterKopfPeering", "metadata": {"name": PEERING}}))


def peers(control_plane: LocalControlPlane) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(kubectl(control_plane, "get", "clusterkopfpeering", PEERING, "-o", "json"))
    return found.get("status") or {}


def ran_handlers(process: OperatorProcess, schedule: str) -> bool:
    """Whether kopf ran the create handler of ``schedule`` in this process (its log says so)."""
    namespace, name = schedule.split("/")
    return any("Creation is in progress" in line and f"'namespace': '{namespace}'" in line
               and f"'name': '{name}'" in line for line in process.log().splitlines())


async def test_only_the_active_peer_runs_the_loops_and_the_standby_takes_over(
        replace_operator: Replacements, control_plane: LocalControlPlane, temporal_server: TemporalDevServer,
        temporal_client: Client, kube: Kube, stack_dir: Path) -> None:
    install_peering(control_plane)
    first = replace_operator("peer-a", SUNDIAL_PEERING_NAME=PEERING)
    # A second webhook port: one address is registered with the apiserver, and it is peer a's.
    env = e2e_operator_env(control_plane, temporal_server, SUNDIAL_PEERING_NAME=PEERING,
                           SUNDIAL_WEBHOOK_PORT=str(free_port()))
    second = OperatorProcess(stack_dir / "replacements" / "peer-b", env, extra_args=("--verbose",))
    second.start()
    try:
        eventually("both processes in the peering object", lambda: len(peers(control_plane)) == 2, timeout=60)
        namespace = kube.new_namespace(webhook=False)  # peer a may be stopped below; the webhook is its
        body = create_ready(kube, namespace, "peered", EXAMPLE_SPEC, timeout=30)
        sid = body["status"]["temporal"]["scheduleId"]
        handled = [p for p in (first, second) if ran_handlers(p, f"{namespace}/peered")]
        assert len(handled) == 1, "both processes (or none) ran kopf's handlers"
        active, standby = handled[0], second if handled[0] is first else first

        standby_sweeps, standby_accounting = standby.metric(SWEEPS), standby.metric(ACCOUNTING)
        active.wait_for_sweeps(2, timeout=RESYNC_SECONDS * 6)
        assert standby.metric(SWEEPS) == standby_sweeps, "the standby swept too"
        assert standby.metric(ACCOUNTING) == standby_accounting, "the standby counted runs too"
        assert (active.metric(ACTIVE), standby.metric(ACTIVE)) == (1.0, 0.0)

        repairs = active.metric(MISSING) + standby.metric(MISSING)
        await temporal_client.get_schedule_handle(sid).delete()  # out of band: one recreate, by one process
        await eventually_async("recreated in Temporal", lambda: exists(temporal_client, sid), RESYNC_SECONDS + 20)
        active.wait_for_sweeps(2, timeout=RESYNC_SECONDS * 6)
        assert active.metric(MISSING) + standby.metric(MISSING) == repairs + 1
        assert len(warnings(kube, namespace, "peered", "DriftRepaired")) == 1

        active.stop(timeout=20)  # graceful: kopf takes its entry out of the peering object
        standby.wait_for_sweeps(1, timeout=RESYNC_SECONDS * 6)  # the standby took over
        assert standby.metric(ACTIVE) == 1.0
    finally:
        second.stop(timeout=10)
