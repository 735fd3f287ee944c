"""Nothing is stranded by a Temporal outage: a spec edit, a ``sundial resume`` of an automatically
paused schedule and a ``sundial trigger`` made while Temporal is down all reach their desired state
once it is back, with no further action by the user."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client
from tests.e2e.helpers import Kube, condition, ready, ready_schedule_id
from tests.e2e.test_drift_repair import hours
from tests.e2e.test_runs_accounting import auto_paused
from tests.e2e.workers import (
    WorkerProcess,
    cli_env,
    executions,
    run_spec,
    status_of,
    sundial,
    trigger_and_wait,
)
from tests.support.scripted_agent import scripted_query
from tests.support.waiting import eventually, eventually_async

from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.operator_process import OperatorProcess
from sundial.devstack.temporal_dev import TemporalDevServer

BACK_WITHIN = 90.0  # kopf's backoff reaches 60 s in a long outage; the sweeper retries every resync


def phase_is(kube: Kube, namespace: str, name: str, phase: str) -> bool:
    return bool(status_of(kube, namespace, name).get("phase") == phase)


def trigger_waits(kube: Kube, namespace: str, name: str) -> dict[str, Any] | None:
    requests = status_of(kube, namespace, name).get("requests") or {}
    return requests if str(requests.get("triggerResult")).startswith("waiting") else None


async def test_an_edit_a_resume_and_a_trigger_made_during_an_outage_all_land_when_temporal_is_back(
    operator: OperatorProcess, kube: Kube, temporal_client: Client, worker: WorkerProcess,
    control_plane: LocalControlPlane, temporal_server: TemporalDevServer,
) -> None:
    ns = kube.new_namespace()
    env = cli_env(control_plane, temporal_server)
    kube.create(ns, "edited", run_spec(scripted_query()))
    kube.create(ns, "resumed", run_spec(scripted_query(outcome="fail", retryable="false"),
                                        policy={"maxConsecutiveFailures": 1}))
    kube.create(ns, "triggered", run_spec(scripted_query()))
    edited, resumed, triggered = (ready_schedule_id(kube, ns, name) for name in ("edited", "resumed", "triggered"))
    await trigger_and_wait(temporal_client, resumed)
    eventually("auto-paused", lambda: auto_paused(kube, ns, "resumed", "ConsecutiveFailures"), timeout=30)
    runs_before = len(await executions(temporal_client, triggered))

    temporal_server.stop()
    try:
        kube.patch_spec(ns, "edited", {"schedule": "0 10 1 1 *"})
        done = sundial(env, "resume", "resumed", "-n", ns)
        assert done.returncode == 0, done.stdout + done.stderr
        done = sundial(env, "trigger", "triggered", "-n", ns, "--no-wait")
        assert done.returncode == 0, done.stdout + done.stderr
        eventually("the edit failed on the outage", lambda: phase_is(kube, ns, "edited", "Error"), timeout=60)
        eventually("the resume failed on the outage", lambda: phase_is(kube, ns, "resumed", "Error"), timeout=60)
        eventually("the trigger waits", lambda: trigger_waits(kube, ns, "triggered"), timeout=60)
        assert "TriggerDelayed" in kube.event_reasons(ns, "triggered")
    finally:
        temporal_server.start()

    eventually("the edit applied", lambda: ready(kube, ns, "edited", generation=2), timeout=BACK_WITHIN)
    assert await hours(temporal_client, edited) == [10]
    body = eventually("resumed", lambda: condition(kube.get(ns, "resumed"), "Paused").get("status") == "False"
                      and ready(kube, ns, "resumed"), timeout=BACK_WITHIN)
    assert body["status"]["phase"] == "Active"
    assert not (await temporal_client.get_schedule_handle(resumed).describe()).schedule.state.paused
    requests = eventually("the trigger acknowledged",
                          lambda: (status_of(kube, ns, "triggered").get("requests") or {}).get("triggerResult")
                          == "started" and status_of(kube, ns, "triggered")["requests"], timeout=BACK_WITHIN)
    token = kube.get(ns, "triggered")["metadata"]["annotations"]["sundial.dev/trigger-requested"]
    assert requests["trigger"] == token
    await eventually_async("the triggered run", lambda: _more_runs(temporal_client, triggered, runs_before),
                           timeout=60)
    assert len(await executions(temporal_client, triggered)) == runs_before + 1  # one run, not one per retry


async def _more_runs(client: Client, schedule_id: str, before: int) -> bool:
    return len(await executions(client, schedule_id)) > before
