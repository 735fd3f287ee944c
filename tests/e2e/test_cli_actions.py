"""``sundial pause``, ``resume`` and ``trigger`` as a user runs them, against the real stack."""

from __future__ import annotations

import os
import subprocess
import sys

from temporalio.client import Client
from tests.e2e.conftest import REPO, Kube, OperatorProcess, condition, eventually
from tests.e2e.test_schedule_lifecycle import EXAMPLE_SPEC, describe, ready

from sundial.devstack.controlplane import LocalControlPlane


def sundial(control_plane: LocalControlPlane, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUBECONFIG": str(control_plane.kubeconfig), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "sundial.cli", *args], env=env, capture_output=True,
                          text=True, timeout=60)


async def test_pause_and_resume_commands_reach_temporal(
    operator: OperatorProcess, kube: Kube, temporal_client: Client, control_plane: LocalControlPlane
) -> None:
    ns = kube.new_namespace()
    kube.create(ns, "cli", EXAMPLE_SPEC)
    sid = eventually("Ready", lambda: ready(kube, ns, "cli"))["status"]["temporal"]["scheduleId"]

    paused = sundial(control_plane, "pause", "cli", "-n", ns, "--reason", "holiday freeze")
    assert paused.returncode == 0, paused.stderr
    eventually("Temporal paused", lambda: condition(kube.get(ns, "cli"), "Paused").get("status") == "True")
    state = (await describe(temporal_client, sid)).schedule.state
    assert state.paused and state.note == "holiday freeze"
    assert kube.get(ns, "cli")["spec"]["paused"] is True

    resumed = sundial(control_plane, "resume", "cli", "-n", ns)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    eventually("Temporal unpaused", lambda: condition(kube.get(ns, "cli"), "Paused").get("status") == "False")
    assert not (await describe(temporal_client, sid)).schedule.state.paused


async def test_trigger_command_starts_one_run_now(
    operator: OperatorProcess, kube: Kube, temporal_client: Client, control_plane: LocalControlPlane
) -> None:
    ns = kube.new_namespace()
    kube.create(ns, "now", EXAMPLE_SPEC)
    sid = eventually("Ready", lambda: ready(kube, ns, "now"))["status"]["temporal"]["scheduleId"]

    triggered = sundial(control_plane, "trigger", "now", "-n", ns)
    assert triggered.returncode == 0, triggered.stdout + triggered.stderr
    assert "started" in triggered.stdout
    description = await describe(temporal_client, sid)
    assert description.info.num_actions == 1
    assert "Triggered" in kube.event_reasons(ns, "now")


def test_commands_on_an_unknown_schedule_fail_with_a_clear_message(
    operator: OperatorProcess, kube: Kube, control_plane: LocalControlPlane
) -> None:
    ns = kube.new_namespace()
    for args in (["trigger", "ghost"], ["pause", "ghost", "--reason", "x"], ["resume", "ghost"]):
        result = sundial(control_plane, *args, "-n", ns)
        assert result.returncode == 1
        assert f"schedule {ns}/ghost not found" in result.stdout
