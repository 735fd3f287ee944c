"""``sundial resume --probe`` end to end: an automatic pause after three failures, a probe that still
fails (the schedule stays paused, the command says why), then the cause fixed and a probe that resumes.

The scripted agent's query says ``outcome=fail fixed_by=<file>``: runs fail until the test creates
the file, as a broken API key would until someone fixes it (the spec, hence the input, never changes:
a spec change would itself lift the pause).
"""

from __future__ import annotations

import asyncio
import json
from asyncio.subprocess import PIPE
from pathlib import Path
from typing import Any

from temporalio.client import Client
from tests.e2e.helpers import Kube, condition, ready_schedule_id
from tests.e2e.workers import (
    SUNDIAL,
    WorkerProcess,
    cli_env,
    run_spec,
    status_of,
    sundial,
    trigger_and_wait,
)
from tests.support.scripted_agent import scripted_query
from tests.support.waiting import eventually

from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.operator_process import OperatorProcess
from sundial.devstack.temporal_dev import TemporalDevServer


def paused_by(kube: Kube, namespace: str, name: str, reason: str) -> dict[str, Any] | None:
    found = condition(kube.get(namespace, name), "Paused")
    return found if (found.get("status"), found.get("reason")) == ("True", reason) else None


async def test_a_probe_resumes_only_once_the_cause_is_fixed_and_counts_like_any_run(
    operator: OperatorProcess, kube: Kube, temporal_client: Client, worker: WorkerProcess,
    control_plane: LocalControlPlane, temporal_server: TemporalDevServer, tmp_path: Path,
) -> None:
    fix = tmp_path / "api-key-fixed"
    ns = kube.new_namespace()
    kube.create(ns, "flaky", run_spec(scripted_query("digest", outcome="fail", fixed_by=fix, cost=0.05,
                                                     retryable="false")))
    sid = ready_schedule_id(kube, ns, "flaky")
    env = cli_env(control_plane, temporal_server)
    for _ in range(3):
        await trigger_and_wait(temporal_client, sid)

    paused = eventually("ConsecutiveFailures pause", lambda: paused_by(kube, ns, "flaky", "ConsecutiveFailures"),
                        timeout=60)
    assert paused["message"].startswith("3 failed runs in a row (policy.maxConsecutiveFailures is 3); last error: ")
    assert "scripted failure" in paused["message"]
    assert (await temporal_client.get_schedule_handle(sid).describe()).schedule.state.paused
    paused_series = f'sundial_schedule_paused{{namespace="{ns}",schedule="flaky",reason="ConsecutiveFailures"}}'
    eventually("the pause in the per-schedule metrics", lambda: operator.metric(paused_series) == 1)
    assert operator.metric(f'sundial_schedule_consecutive_failures{{namespace="{ns}",schedule="flaky"}}') == 3

    still = sundial(env, "resume", "flaky", "-n", ns, "--probe", "--reason", "retry", "--timeout", "90")
    assert (still.returncode, still.stdout) == (1, ""), still.stdout + still.stderr
    assert still.stderr.startswith(f"error: probe run probe-{sid}-") and "failed: " in still.stderr
    assert "scripted failure" in still.stderr and still.stderr.endswith(f"schedule {ns}/flaky stays paused\n")
    paused = eventually("the probe's error in the condition", lambda: (lambda c: c if c and "; probe run probe-"
                        in c["message"] else None)(paused_by(kube, ns, "flaky", "ConsecutiveFailures")))
    assert paused["message"].count("scripted failure") == 2  # the last run's error, then the probe's
    assert (await temporal_client.get_schedule_handle(sid).describe()).schedule.state.paused
    assert "ProbeFailed" in kube.event_reasons(ns, "flaky")

    fix.write_text("fixed")
    fixed = sundial(env, "resume", "flaky", "-n", ns, "--probe", "--reason", "key rotated", "--timeout", "90")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert fixed.stdout.startswith(f"schedule {ns}/flaky resumed: probe run probe-{sid}-")
    eventually("resumed", lambda: condition(kube.get(ns, "flaky"), "Paused").get("status") == "False")
    assert not (await temporal_client.get_schedule_handle(sid).describe()).schedule.state.paused
    assert "key rotated" in condition(kube.get(ns, "flaky"), "Paused")["message"]

    listed = sundial(env, "runs", "flaky", "-n", ns, "-o", "json")
    assert listed.returncode == 0, listed.stderr
    runs = json.loads(listed.stdout)["runs"]
    probes = [(r["status"], r["query"]) for r in runs if r["workflowId"].startswith(f"probe-{sid}-")]
    query = scripted_query("digest", outcome="fail", fixed_by=fix, cost=0.05, retryable="false")
    assert probes == [("COMPLETED", query), ("FAILED", query)]
    # three scheduled runs and two probes, each counted once: cost 5 x $0.05, the streak ended by the probe
    counted = eventually("5 runs counted", lambda: (lambda s: s if (s.get("runs") or {}).get("total") == 5
                                                    else None)(status_of(kube, ns, "flaky")), timeout=60)
    assert counted["runs"] == {"total": 5, "succeeded": 1, "failed": 4, "running": 0, "consecutiveFailures": 0}
    assert abs(counted["cost"]["totalUSD"] - 0.25) < 1e-9


async def test_an_operator_restarted_during_a_probe_finishes_it_without_starting_another(
    operator: OperatorProcess, kube: Kube, temporal_client: Client, worker: WorkerProcess,
    control_plane: LocalControlPlane, temporal_server: TemporalDevServer, tmp_path: Path,
) -> None:
    fix = tmp_path / "fixed"
    ns = kube.new_namespace()
    query = scripted_query("slow", outcome="fail", fixed_by=fix, sleep=4, retryable="false")
    kube.create(ns, "slow", run_spec(query, policy={"maxConsecutiveFailures": 1}))
    sid = ready_schedule_id(kube, ns, "slow")
    env = cli_env(control_plane, temporal_server)
    await trigger_and_wait(temporal_client, sid)
    eventually("ConsecutiveFailures pause", lambda: paused_by(kube, ns, "slow", "ConsecutiveFailures"), timeout=60)
    fix.write_text("fixed")

    cli = await asyncio.create_subprocess_exec(*SUNDIAL, "resume", "slow", "-n", ns, "--probe", "--timeout", "120",
                                               env=env, stdout=PIPE, stderr=PIPE)
    eventually("the probe started", lambda: ((status_of(kube, ns, "slow").get("requests") or {}).get("probeRun")))
    operator.kill()  # while the probe run sleeps
    operator.start()
    out, err = await asyncio.wait_for(cli.communicate(), 150)
    assert cli.returncode == 0, (out + err).decode()
    assert not (await temporal_client.get_schedule_handle(sid).describe()).schedule.state.paused
    probes = [e async for e in temporal_client.list_workflows(f"WorkflowId STARTS_WITH 'probe-{sid}-'")]
    assert len(probes) == 1 and probes[0].status is not None and probes[0].status.name == "COMPLETED"
