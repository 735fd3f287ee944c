"""``sundial pause``, ``resume`` and ``trigger`` as a user runs them, against the real stack."""

from __future__ import annotations

import os
import subprocess
import sys

from temporalio.client import Client
from tests.e2e.helpers import REPO, Kube, condition, create_ready
from tests.e2e.test_schedule_lifecycle import EXAMPLE_SPEC, describe
from tests.support.waiting import eventually

from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.operator_process import OperatorProcess


def sundial(control_plane: LocalControlPlane, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUBECONFIG": str(control_plane.kubeconfig), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "sundial.cli", *args], env=env, capture_output=True,
                          text=True, timeout=60)


async def test_pause_and_resume_commands_reach_temporal(
    operator: OperatorProcess, kube: Kube, temporal_client: Client, control_plane: LocalControlPlane
) -> None:
    ns = kube.new_namespace()
    sid = create_ready(kube, ns, "cli", EXAMPLE_SPEC)["status"]["temporal"]["scheduleId"]

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
    sid = create_ready(kube, ns, "now", EXAMPLE_SPEC)["status"]["temporal"]["scheduleId"]

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
        assert (result.stdout, result.stderr) == ("", f"error: schedule {ns}/ghost not found\n")


async def test_resume_records_its_reason_in_the_event_and_the_paused_condition(
    operator: OperatorProcess, kube: Kube, control_plane: LocalControlPlane
) -> None:
    ns = kube.new_namespace()
    create_ready(kube, ns, "why", EXAMPLE_SPEC)
    assert sundial(control_plane, "pause", "why", "-n", ns, "--reason", "vendor outage").returncode == 0
    eventually("paused", lambda: condition(kube.get(ns, "why"), "Paused").get("status") == "True")

    resumed = sundial(control_plane, "resume", "why", "-n", ns, "--reason", "vendor is back")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert resumed.stdout == f"schedule {ns}/why resumed: vendor is back\n"
    paused = eventually("resumed with the reason", lambda: (lambda c: c if c.get("status") == "False" and
                        "vendor is back" in c.get("message", "") else None)(condition(kube.get(ns, "why"), "Paused")))
    token = kube.get(ns, "why")["status"]["requests"]["resume"]
    assert paused["message"] == f"resumed at {token}: vendor is back"
    events = {e.reason: e.message for e in kube.events(ns, "why")}
    assert events.get("ResumeRequested") == "sundial resume: vendor is back"


async def test_pausing_an_already_paused_schedule_says_since_when_and_why(
    operator: OperatorProcess, kube: Kube, control_plane: LocalControlPlane
) -> None:
    ns = kube.new_namespace()
    create_ready(kube, ns, "twice", EXAMPLE_SPEC)
    assert sundial(control_plane, "pause", "twice", "-n", ns, "--reason", "holiday freeze").returncode == 0
    since = eventually("paused", lambda: (lambda c: c.get("status") == "True" and c["lastTransitionTime"])(
        condition(kube.get(ns, "twice"), "Paused")))

    again = sundial(control_plane, "pause", "twice", "-n", ns, "--reason", "another reason")
    assert (again.returncode, again.stderr) == (0, "")
    assert again.stdout == f"schedule {ns}/twice already paused since {since}: holiday freeze\n"
    assert kube.get(ns, "twice")["spec"]["pauseReason"] == "holiday freeze"


def test_a_reason_over_the_limit_is_refused_naming_the_flag_and_the_limit(control_plane: LocalControlPlane
                                                                         ) -> None:
    for command in ("pause", "resume"):
        result = sundial(control_plane, command, "any", "-n", "default", "--reason", "x" * 1001)
        assert (result.returncode, result.stdout) == (2, "")
        assert result.stderr == "error: --reason is 1001 characters long; the limit is 1000\n"

