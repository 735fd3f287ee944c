"""Run outcomes, cost and automatic pauses, end to end: operator, reference worker, Temporal, kube-apiserver.

Runs are started with ``sundial trigger`` (or in Temporal, while the operator is down);
the scripted agent does what each run's query says. The operator's accounting loop polls
every ``SUNDIAL_RUNS_POLL_SECONDS`` (1 s in the e2e operator).
"""

from __future__ import annotations

import asyncio
import functools
import random
from typing import Any

import pytest
from temporalio.client import Client
from tests.e2e.helpers import ACCOUNTING_SWEEPS, Kube, condition, ready_schedule_id
from tests.e2e.workers import (
    WorkerProcess,
    cli_env,
    closed_count,
    executions,
    run_spec,
    set_query,
    status_of,
    sundial,
    trigger_and_wait,
)
from tests.support.scripted_agent import scripted_query
from tests.support.waiting import eventually

from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.operator_process import OperatorProcess
from sundial.devstack.temporal_dev import TemporalDevServer


def runs_total(kube: Kube, namespace: str, name: str, total: int) -> dict[str, Any] | None:
    status = status_of(kube, namespace, name)
    return status if (status.get("runs") or {}).get("total") == total else None


def auto_paused(kube: Kube, namespace: str, name: str, reason: str) -> dict[str, Any] | None:
    body = kube.get(namespace, name)
    paused = condition(body, "Paused")
    if (paused.get("status"), paused.get("reason")) != ("True", reason):
        return None
    return body


async def test_five_runs_are_counted_with_their_cost_and_bounded_history(
    operator: OperatorProcess, kube: Kube, temporal_client: Client, worker: WorkerProcess,
    control_plane: LocalControlPlane, temporal_server: TemporalDevServer,
) -> None:
    ns = kube.new_namespace()
    kube.create(ns, "digest", run_spec(scripted_query(), history={"successfulRunsLimit": 2, "failedRunsLimit": 1}))
    sid = ready_schedule_id(kube, ns, "digest")
    env = cli_env(control_plane, temporal_server)
    plan = [("success", 0.10), ("success", 0.20), ("fail", 0.05), ("success", 0.40), ("fail", 0.01)]
    for outcome, cost in plan:
        await set_query(kube, temporal_client, ns, "digest", scripted_query(outcome=outcome, cost=cost, tokens=100,
                                                                             retryable="false"))
        await trigger_and_wait(temporal_client, sid, env, ns, "digest")

    status = eventually("5 runs counted", lambda: runs_total(kube, ns, "digest", 5), timeout=30)
    assert status["runs"] == {"total": 5, "succeeded": 3, "failed": 2, "running": 0, "consecutiveFailures": 1}
    assert status["cost"]["totalUSD"] == pytest.approx(sum(cost for _, cost in plan))
    assert status["cost"]["lastRunUSD"] == pytest.approx(0.01)
    truth = await executions(temporal_client, sid)
    completed = [e for e in truth if e.status and e.status.name == "COMPLETED"]
    newest_success = max(e.close_time for e in completed if e.close_time)
    assert status["lastSuccessfulTime"] == newest_success.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [(r["status"], r["costUSD"]) for r in status["recentRuns"]] == [
        ("FAILED", 0.01), ("COMPLETED", 0.40), ("COMPLETED", 0.20)]
    assert all(r["model"] == "scripted" and r["totalTokens"] == 100 for r in status["recentRuns"])
    assert "scripted failure" in status["recentRuns"][0]["error"]
    assert status["lastRunTime"] == max(e.start_time for e in truth).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert status["phase"] == "Active"  # one failure in a row is below maxConsecutiveFailures (3)


async def test_killing_the_operator_during_a_burst_loses_and_doubles_no_run(
    operator: OperatorProcess, kube: Kube, temporal_client: Client, worker: WorkerProcess,
) -> None:
    ns = kube.new_namespace()
    kube.create(ns, "burst", run_spec(scripted_query(cost=0.125, sleep=0.5),
                                      policy={"maxConsecutiveFailures": 0, "overlap": "AllowAll"}))
    sid = ready_schedule_id(kube, ns, "burst")
    rng = random.Random(4)
    triggered = 0
    for round_ in range(3):
        for _ in range(3):
            await trigger_and_wait(temporal_client, sid)
            triggered += 1
        # let the accounting catch the runs so far, then kill -9 at a random moment of its next sweeps
        eventually("runs counted", functools.partial(runs_total, kube, ns, "burst", triggered), timeout=30)
        await trigger_and_wait(temporal_client, sid)
        triggered += 1
        await asyncio.sleep(rng.uniform(0.0, 1.5))  # a random moment of the next sweeps, not a condition
        operator.kill()
        await trigger_and_wait(temporal_client, sid)  # runs while the operator is down
        triggered += 1
        operator.start()
        del round_

    assert await closed_count(temporal_client, sid) == triggered
    status = eventually("every run counted", lambda: runs_total(kube, ns, "burst", triggered), timeout=40)
    assert (status["runs"]["succeeded"], status["runs"]["failed"]) == (triggered, 0)
    assert status["cost"]["totalUSD"] == pytest.approx(0.125 * triggered)
    operator.wait_for_sweeps(3, ACCOUNTING_SWEEPS)  # nothing may change in three more sweeps
    assert status_of(kube, ns, "burst")["runs"]["total"] == triggered


async def test_three_failures_in_a_row_pause_temporal_until_sundial_resume(
    operator: OperatorProcess, kube: Kube, temporal_client: Client, worker: WorkerProcess,
    control_plane: LocalControlPlane, temporal_server: TemporalDevServer,
) -> None:
    ns = kube.new_namespace()
    failing = scripted_query(outcome="fail", cost=0.01, retryable="false")
    kube.create(ns, "flaky", run_spec(failing, policy={"maxConsecutiveFailures": 3}))
    sid = ready_schedule_id(kube, ns, "flaky")
    for _ in range(3):
        await trigger_and_wait(temporal_client, sid)

    body = eventually("Paused=True ConsecutiveFailures", lambda: auto_paused(kube, ns, "flaky",
                                                                              "ConsecutiveFailures"), timeout=30)
    assert body["status"]["phase"] == "Paused"
    assert body["status"]["accounting"]["autoPause"]["reason"] == "ConsecutiveFailures"
    assert "3 failed runs in a row" in condition(body, "Paused")["message"]
    assert body["spec"].get("paused") in (None, False)  # spec untouched
    description = await temporal_client.get_schedule_handle(sid).describe()
    assert description.schedule.state.paused and "3 failed runs in a row" in (description.schedule.state.note or "")
    warnings = [e for e in kube.events(ns, "flaky") if e.type == "Warning" and e.reason == "ConsecutiveFailures"]
    assert len(warnings) == 1

    done = sundial(cli_env(control_plane, temporal_server), "resume", "flaky", "-n", ns)
    assert done.returncode == 0, done.stdout + done.stderr
    def resumed() -> dict[str, Any] | None:
        body = kube.get(ns, "flaky")
        return body if condition(body, "Paused").get("status") == "False" else None

    body = eventually("resumed", resumed, timeout=30)
    assert not (await temporal_client.get_schedule_handle(sid).describe()).schedule.state.paused
    assert body["status"]["runs"]["consecutiveFailures"] == 0
    assert not (body["status"].get("accounting") or {}).get("autoPause")
    operator.wait_for_sweeps(3, ACCOUNTING_SWEEPS)  # it must not pause again by itself
    assert condition(kube.get(ns, "flaky"), "Paused").get("status") == "False"


async def test_reaching_the_total_budget_pauses_with_budget_exhausted(
    operator: OperatorProcess, kube: Kube, temporal_client: Client, worker: WorkerProcess,
) -> None:
    ns = kube.new_namespace()
    kube.create(ns, "pricey", run_spec(scripted_query(cost=0.3), policy={"maxTotalBudgetUSD": 0.5}))
    sid = ready_schedule_id(kube, ns, "pricey")
    await trigger_and_wait(temporal_client, sid)
    eventually("first run counted", lambda: runs_total(kube, ns, "pricey", 1), timeout=30)
    assert condition(kube.get(ns, "pricey"), "Paused").get("status") == "False"
    await trigger_and_wait(temporal_client, sid)

    body = eventually("BudgetExhausted", lambda: auto_paused(kube, ns, "pricey", "BudgetExhausted"), timeout=30)
    assert body["status"]["cost"]["totalUSD"] == pytest.approx(0.6)
    assert (await temporal_client.get_schedule_handle(sid).describe()).schedule.state.paused
    assert "BudgetExhausted" in kube.event_reasons(ns, "pricey")


async def test_a_spec_change_that_lifts_the_budget_resumes(
    operator: OperatorProcess, kube: Kube, temporal_client: Client, worker: WorkerProcess,
) -> None:
    ns = kube.new_namespace()
    kube.create(ns, "capped", run_spec(scripted_query(cost=0.3), policy={"maxTotalBudgetUSD": 0.2}))
    sid = ready_schedule_id(kube, ns, "capped")
    await trigger_and_wait(temporal_client, sid)
    eventually("BudgetExhausted", lambda: auto_paused(kube, ns, "capped", "BudgetExhausted"), timeout=30)

    kube.patch_spec(ns, "capped", {"policy": {"maxTotalBudgetUSD": 5.0}})
    eventually("resumed by the spec change",
               lambda: condition(kube.get(ns, "capped"), "Paused").get("status") == "False", timeout=30)
    assert not (await temporal_client.get_schedule_handle(sid).describe()).schedule.state.paused
    assert "AutoPauseCleared" in kube.event_reasons(ns, "capped")
    operator.wait_for_sweeps(3, ACCOUNTING_SWEEPS)  # the lifted cap must not pause it again
    assert condition(kube.get(ns, "capped"), "Paused").get("status") == "False"


async def test_a_restricted_operation_fails_the_run_and_the_spec_cannot_allow_it(
    operator: OperatorProcess, kube: Kube, temporal_client: Client, worker: WorkerProcess,
) -> None:
    ns = kube.new_namespace()
    kube.create(ns, "mailer", run_spec(scripted_query("weekly report then sendEmail to the team")))
    sid = ready_schedule_id(kube, ns, "mailer")
    await trigger_and_wait(temporal_client, sid)
    status = eventually("refused run counted", lambda: runs_total(kube, ns, "mailer", 1), timeout=30)
    assert status["runs"]["failed"] == 1
    assert "restricted operation(s) send_email refused" in status["recentRuns"][0]["error"]

    # the task's own context grants nothing: only the worker's SUNDIAL_WORKER_ALLOWED_OPERATIONS does
    kube.patch_spec(ns, "mailer", {"task": {"query": scripted_query("weekly report then sendEmail to the team"),
                                            "context": {"allowed_operations": ["send_email"]}}})
    generation = kube.get(ns, "mailer")["metadata"]["generation"]
    ready_schedule_id(kube, ns, "mailer", generation)
    await trigger_and_wait(temporal_client, sid)
    status = eventually("second refused run counted", lambda: runs_total(kube, ns, "mailer", 2), timeout=30)
    assert (status["runs"]["failed"], status["runs"]["succeeded"]) == (2, 0)
