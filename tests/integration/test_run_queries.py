"""Run queries and run accounting against the real Temporal dev server and the reference worker.

Schedules are created paused (they never fire by themselves) and runs are started with
``trigger``; the scripted agent does what each run's query says. The accounting tests
run the real ``account_once`` and ``reconcile`` with an in-memory stand-in for the
Kubernetes API (merge-patch semantics), so every Temporal call is real.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import Client, ScheduleActionStartWorkflow
from tests.integration.helpers import add_schedule, next_second, runs_of, set_query, trigger
from tests.support.memory_kube import MemoryKube
from tests.support.scripted_agent import scripted_query
from tests.support.waiting import eventually_async

from sundial.adapters.temporal import TemporalGateway
from sundial.adapters.temporal_runs import TemporalRuns
from sundial.commands.runs import Query, UsageError, collect
from sundial.controller.accounting import AccountingState, account_once, tracked_from_body
from sundial.controller.context import OperatorContext
from sundial.devstack.temporal_dev import TemporalDevServer
from sundial.domain.desired import DesiredSchedule, ScheduleIdentity, cluster_prefix, task_input
from sundial.errors import ScheduleNotFound, TemporalNamespaceNotFound


async def create(gateway: TemporalGateway, cluster: str, name: str, task_queue: str, query: str,
                 retries: int = 1) -> str:
    """A paused Temporal schedule of ``cluster`` whose runs do what ``query`` says."""
    identity = ScheduleIdentity(cluster, "team-a", name, f"uid-{name}")
    argument = task_input(identity.schedule_id, query, {}, 5.0, "alice", "team-a")
    desired = DesiredSchedule(crons=("0 9 * * *",), workflow_type="ScheduledTaskWorkflow", task_queue=task_queue,
                              workflow_id=identity.schedule_id, args=(argument,), paused=True,
                              retry_maximum_attempts=retries, run_timeout=timedelta(seconds=60))
    await gateway.create(identity, desired)
    return identity.schedule_id


# --- the adapter ---------------------------------------------------------------------------


async def test_closed_runs_are_listed_for_this_clusters_schedules_only(
    gateway: TemporalGateway, temporal_client: Client, cluster: str, task_queue: str
) -> None:
    ours = await create(gateway, cluster, "ours", task_queue, scripted_query(cost=0.5))
    theirs = await create(gateway, f"other-{cluster}", "theirs", task_queue, scripted_query())
    since = datetime.now(UTC) - timedelta(seconds=1)
    await trigger(gateway, temporal_client, ours)
    await trigger(gateway, temporal_client, theirs)

    listed = [run async for run in TemporalRuns(gateway).list_closed_runs(cluster_prefix(cluster), since)]
    assert [(run.schedule_id, run.status) for run in listed] == [(ours, "COMPLETED")]
    run = listed[0]
    assert run.workflow_id.startswith(f"{ours}-") and run.workflow_type == "ScheduledTaskWorkflow"
    assert run.scheduled_time is not None and run.closed_at is not None and run.closed_at >= run.started_at
    later = run.closed_at + timedelta(microseconds=1)
    assert [r async for r in TemporalRuns(gateway).list_closed_runs(cluster_prefix(cluster), later)] == []


async def test_open_runs_are_counted_per_schedule(
    gateway: TemporalGateway, temporal_client: Client, cluster: str, task_queue: str
) -> None:
    slow = await create(gateway, cluster, "slow", task_queue, scripted_query(sleep=60))
    await gateway.trigger(slow)
    runs = TemporalRuns(gateway)

    async def one_running() -> bool:
        return await runs.count_running(cluster_prefix(cluster)) == {slow: 1}

    await eventually_async("one open run", one_running, timeout=30, interval=0.1)
    running = [run async for run in runs.list_running(cluster_prefix(cluster))]
    assert [(run.schedule_id, run.status, run.closed_at) for run in running] == [(slow, "RUNNING", None)]
    await temporal_client.get_workflow_handle(running[0].workflow_id).terminate("test done")


async def test_run_outcomes_come_from_the_close_event(
    gateway: TemporalGateway, temporal_client: Client, cluster: str, task_queue: str
) -> None:
    query = scripted_query(cost=0.25, tokens=1200, model="gpt-4o", provider="openai")
    good = await create(gateway, cluster, "good", task_queue, query)
    bad = await create(gateway, cluster, "bad", task_queue, scripted_query(outcome="fail", cost=0.05, tokens=10))
    await trigger(gateway, temporal_client, good)
    await trigger(gateway, temporal_client, bad)
    runs = TemporalRuns(gateway)
    calls_before = gateway.calls["run_outcome"]["ok"]

    good_run = (await runs.list_runs(good)).runs[0]
    outcome = await runs.run_outcome(good_run.workflow_id, good_run.run_id)
    assert outcome is not None and outcome.status == "COMPLETED" and outcome.task_result is not None
    result = outcome.task_result
    assert (result.total_cost_usd, result.total_tokens, result.model_used, result.provider) == (
        0.25, 1200, "gpt-4o", "openai")

    bad_run = (await runs.list_runs(bad)).runs[0]
    failed = await runs.run_outcome(bad_run.workflow_id, bad_run.run_id)
    assert failed is not None and failed.status == "FAILED" and failed.task_result is not None
    assert failed.task_result.total_cost_usd == 0.05 and "scripted failure" in (failed.error or "")
    assert gateway.calls["run_outcome"]["ok"] == calls_before + 2  # one call per run


async def test_a_retried_attempt_names_the_run_that_retries_it(
    gateway: TemporalGateway, temporal_client: Client, cluster: str, task_queue: str
) -> None:
    flaky = await create(gateway, cluster, "flaky", task_queue, scripted_query(outcome="fail", cost=0.1), retries=2)
    await trigger(gateway, temporal_client, flaky, closed_runs=2)
    runs = TemporalRuns(gateway)
    listed = (await runs.list_runs(flaky)).runs
    outcomes = {run.run_id: await runs.run_outcome(run.workflow_id, run.run_id) for run in listed}
    retried = [o for o in outcomes.values() if o is not None and o.retried_in_run_id]
    assert len(listed) == 2 and len(retried) == 1
    assert retried[0].retried_in_run_id in outcomes
    assert {run.status for run in listed} == {"FAILED"}  # visibility lists the retried attempt as failed


async def test_the_outcome_of_a_run_that_does_not_exist_is_none(gateway: TemporalGateway) -> None:
    assert await TemporalRuns(gateway).run_outcome("no-such-workflow", str(uuid.uuid4())) is None
    in_a_namespace_named_so = "sundial.0123456789ab.my-namespace.news-2026-11-21T09:00:00Z"
    assert await TemporalRuns(gateway).run_outcome(in_a_namespace_named_so, str(uuid.uuid4())) is None


async def test_not_found_is_about_the_schedule_even_when_its_kubernetes_namespace_says_namespace(
    gateway: TemporalGateway, temporal_server: TemporalDevServer, cluster: str
) -> None:
    missing = ScheduleIdentity(cluster, "team-namespace", "news", "uid").schedule_id
    with pytest.raises(ScheduleNotFound):
        await gateway.describe(missing)
    elsewhere = TemporalGateway(await Client.connect(temporal_server.address, namespace="no-such-namespace"))
    with pytest.raises(TemporalNamespaceNotFound, match="no-such-namespace"):
        await elsewhere.describe(missing)


async def test_a_schedules_runs_filter_by_status_and_start_time_and_page(
    gateway: TemporalGateway, temporal_client: Client, cluster: str, task_queue: str
) -> None:
    sid = await create(gateway, cluster, "mixed", task_queue, scripted_query())
    await trigger(gateway, temporal_client, sid)
    middle = datetime.now(UTC)
    await gateway.update(sid, await _with_query(gateway, sid, scripted_query(outcome="fail", retryable="false")))
    await trigger(gateway, temporal_client, sid)
    runs = TemporalRuns(gateway)

    assert [r.status for r in (await runs.list_runs(sid, status="failed")).runs] == ["FAILED"]
    assert [r.status for r in (await runs.list_runs(sid, status="completed")).runs] == ["COMPLETED"]
    assert [r.status for r in (await runs.list_runs(sid, since=middle)).runs] == ["FAILED"]
    assert [r.status for r in (await runs.list_runs(sid, until=middle)).runs] == ["COMPLETED"]
    assert await runs.count_runs(sid) == 2 and await runs.count_runs(sid, status="running") == 0

    first = await runs.list_runs(sid, page_size=1)
    second = await runs.list_runs(sid, page_size=1, page_token=first.next_page_token)
    assert first.next_page_token is not None and len(first.runs) == len(second.runs) == 1
    assert {first.runs[0].run_id, second.runs[0].run_id} == set(await runs_of(temporal_client, sid))


async def test_the_runs_command_pages_newest_first_and_sums_the_whole_selection(
    gateway: TemporalGateway, temporal_client: Client, cluster: str, task_queue: str
) -> None:
    sid = await create(gateway, cluster, "history", task_queue, scripted_query(cost=0.1, tokens=7))
    await trigger(gateway, temporal_client, sid)
    await gateway.update(sid, await _with_query(gateway, sid, scripted_query(outcome="fail", cost=0.2)))
    await trigger(gateway, temporal_client, sid)
    await gateway.update(sid, await _with_query(gateway, sid, scripted_query(cost=0.3)))
    await trigger(gateway, temporal_client, sid)
    truth = sorted([e async for e in temporal_client.list_workflows(f"TemporalScheduledById = '{sid}'")],
                   key=lambda e: e.start_time, reverse=True)
    runs = TemporalRuns(gateway)

    def query(page: int, status: str | None = None) -> Query:
        return Query(status=status, since=None, until=None, page=page, page_size=2, output="json")

    first, second = await collect(runs, sid, query(1)), await collect(runs, sid, query(2))
    assert [r["runId"] for r in first["runs"] + second["runs"]] == [e.run_id for e in truth]
    assert [r["status"] for r in first["runs"] + second["runs"]] == ["COMPLETED", "FAILED", "COMPLETED"]
    assert first["selection"] == second["selection"] == {"count": 3, "costUSD": 0.6, "runsWithoutCost": 0}
    assert (first["pages"], second["runs"][0]["costUSD"], second["runs"][0]["totalTokens"]) == (2, 0.1, 7)
    assert "scripted failure" in first["runs"][1]["error"]
    failed = await collect(runs, sid, query(1, "failed"))
    assert [r["runId"] for r in failed["runs"]] == [truth[1].run_id]
    assert failed["selection"]["costUSD"] == 0.2
    with pytest.raises(UsageError, match="past the last page"):
        await collect(runs, sid, query(3))


async def _with_query(gateway: TemporalGateway, sid: str, query: str) -> DesiredSchedule:
    observed = await gateway.describe(sid)
    argument = {**observed.args[0], "task_query": query}
    return DesiredSchedule(crons=("0 9 * * *",), workflow_type="ScheduledTaskWorkflow", task_queue=observed.task_queue,
                           workflow_id=sid, args=(argument,), paused=True, run_timeout=timedelta(seconds=60))


# --- the accounting sweep --------------------------------------------------------------------


async def test_a_sweep_counts_five_runs_with_their_cost_once_and_an_idle_sweep_writes_nothing(
    ctx: OperatorContext, kube: MemoryKube, gateway: TemporalGateway, temporal_client: Client, task_queue: str
) -> None:
    sid = await add_schedule(ctx, kube, "news", task_queue, scripted_query(), history={"successfulRunsLimit": 2,
                                                                                 "failedRunsLimit": 1})
    costs = [0.10, 0.20, 0.05, 0.40, 0.01]
    for outcome, cost in zip(["success", "success", "fail", "success", "fail"], costs, strict=True):
        await set_query(ctx, kube, "news", scripted_query(outcome=outcome, cost=cost, retryable="false"))
        await trigger(gateway, temporal_client, sid)
    state = AccountingState()

    report = await account_once(ctx, state)
    status = kube.status("news")
    assert status["runs"] == {"total": 5, "succeeded": 3, "failed": 2, "running": 0, "consecutiveFailures": 1}
    assert status["cost"]["totalUSD"] == pytest.approx(sum(costs)) and status["cost"]["lastRunUSD"] == 0.01
    assert [r["status"] for r in status["recentRuns"]] == ["FAILED", "COMPLETED", "COMPLETED"]
    assert status["lastSuccessfulTime"] == status["recentRuns"][1]["closedAt"]
    assert len(status["accounting"]["countedIds"]) == 5  # all closed within the safety lag
    assert (report.new_runs, report.status_patches, report.temporal_calls) == (
        5, 1, {"list_runs": 2, "run_outcome": 5})

    idle = await account_once(ctx, state)
    assert (idle.new_runs, idle.status_patches, idle.temporal_calls) == (0, 0, {"list_runs": 2})
    after_restart = await account_once(ctx, AccountingState())
    assert (after_restart.new_runs, after_restart.status_patches) == (0, 0)
    assert kube.status("news")["runs"]["total"] == 5


async def test_failures_in_a_row_pause_the_temporal_schedule_with_a_warning(
    ctx: OperatorContext, kube: MemoryKube, gateway: TemporalGateway, temporal_client: Client, task_queue: str
) -> None:
    query = scripted_query(outcome="fail", cost=0.01, retryable="false")
    sid = await add_schedule(ctx, kube, "flaky", task_queue, query, policy={"maxConsecutiveFailures": 2})
    await trigger(gateway, temporal_client, sid)
    await trigger(gateway, temporal_client, sid)

    report = await account_once(ctx)
    status = kube.status("flaky")
    assert status["accounting"]["autoPause"]["reason"] == "ConsecutiveFailures"
    assert report.auto_paused == ["team-a/flaky: ConsecutiveFailures"] and report.pauses_applied == 1
    assert (await gateway.describe(sid)).paused
    paused = next(c for c in status["conditions"] if c["type"] == "Paused")
    assert (paused["status"], paused["reason"], status["phase"]) == ("True", "ConsecutiveFailures", "Paused")
    assert ("flaky", "Warning", "ConsecutiveFailures") in [event[:3] for event in kube.events]
    again = await account_once(ctx)
    assert (again.auto_paused, again.pauses_applied, again.status_patches) == ([], 0, 0)


async def test_reaching_the_total_budget_pauses_with_budget_exhausted(
    ctx: OperatorContext, kube: MemoryKube, gateway: TemporalGateway, temporal_client: Client, task_queue: str
) -> None:
    sid = await add_schedule(ctx, kube, "pricey", task_queue, scripted_query(cost=0.6),
                             policy={"maxTotalBudgetUSD": 1.0, "maxConsecutiveFailures": 0})
    await trigger(gateway, temporal_client, sid)
    assert (await account_once(ctx)).auto_paused == []
    await trigger(gateway, temporal_client, sid)

    await account_once(ctx)
    assert kube.status("pricey")["accounting"]["autoPause"]["reason"] == "BudgetExhausted"
    assert (await gateway.describe(sid)).paused


async def test_an_exhausted_budget_cancels_the_runs_still_open_and_bounds_every_run(
    ctx: OperatorContext, kube: MemoryKube, gateway: TemporalGateway, temporal_client: Client, task_queue: str
) -> None:
    """Issue 10 item 4: retries are bounded by an execution timeout, and a spent budget stops open runs."""
    sid = await add_schedule(ctx, kube, "spender", task_queue, scripted_query(sleep=120, cost=0.6),
                             timeoutSeconds=300, workflow={"taskQueue": task_queue, "retry": {"maximumAttempts": 3}},
                             policy={"maxTotalBudgetUSD": 1.0, "maxConsecutiveFailures": 0})
    action = (await temporal_client.get_schedule_handle(sid).describe()).schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert action.execution_timeout == timedelta(seconds=3 * 300 + 2 * 100)
    await trigger(gateway, temporal_client, sid, closed_runs=0)  # a long run, still open
    await eventually_async("a run open", lambda: _runs_open(temporal_client, sid))
    await set_query(ctx, kube, "spender", scripted_query(cost=1.2))
    await trigger(gateway, temporal_client, sid)  # a quick one that spends the whole budget

    await account_once(ctx)
    assert kube.status("spender")["accounting"]["autoPause"]["reason"] == "BudgetExhausted"

    async def cancelled() -> bool:
        query = f"TemporalScheduledById = '{sid}' AND ExecutionStatus = 'Canceled'"
        return len([e async for e in temporal_client.list_workflows(query)]) == 1

    await eventually_async("the open run cancelled", cancelled)
    assert [event[:3] for event in kube.events if event[2] == "RunsCancelled"] == [
        ("spender", "Warning", "RunsCancelled")]


async def _runs_open(client: Client, sid: str) -> bool:
    return len(await runs_of(client, sid, closed=False)) == 1


async def test_a_resource_recreated_with_the_same_name_does_not_inherit_earlier_runs(
    ctx: OperatorContext, kube: MemoryKube, gateway: TemporalGateway, temporal_client: Client, task_queue: str
) -> None:
    sid = await add_schedule(ctx, kube, "reborn", task_queue, scripted_query())
    await trigger(gateway, temporal_client, sid)
    await account_once(ctx)
    assert kube.status("reborn")["runs"]["total"] == 1
    del kube.bodies["team-a", "reborn"]
    await next_second()  # creationTimestamp has whole seconds: the new one must be a later second
    await add_schedule(ctx, kube, "reborn", task_queue, scripted_query())

    report = await account_once(ctx)
    assert (report.new_runs, report.status_patches) == (0, 0)
    assert "runs" not in kube.status("reborn")  # nothing counted, nothing written


async def test_with_an_index_an_idle_sweep_reads_nothing_and_a_stale_index_counts_nothing_twice(
    ctx: OperatorContext, kube: MemoryKube, gateway: TemporalGateway, temporal_client: Client, task_queue: str
) -> None:
    sid = await add_schedule(ctx, kube, "indexed", task_queue, scripted_query(cost=0.5))
    await add_schedule(ctx, kube, "quiet", task_queue, scripted_query())
    index = [tracked_from_body(body) for body in kube.bodies.values()]  # taken before any run
    state = AccountingState()
    await trigger(gateway, temporal_client, sid)

    reads = kube.reads
    counted = await account_once(ctx, state, tracked=lambda: index)
    assert (counted.new_runs, counted.status_patches, counted.kube_calls) == (1, 1, 2)  # GET + PATCH
    assert kube.reads == reads + 1  # only the resource with a new run was read
    stale = await account_once(ctx, state, tracked=lambda: index)  # the index has not seen our write yet
    assert (stale.status_patches, kube.status("indexed")["runs"]["total"]) == (0, 1)
    fresh = [tracked_from_body(body) for body in kube.bodies.values()]
    idle = await account_once(ctx, state, tracked=lambda: fresh)
    assert (idle.kube_calls, idle.status_patches, idle.temporal_calls) == (0, 0, {"list_runs": 2})
    assert kube.status("indexed")["cost"]["totalUSD"] == 0.5
