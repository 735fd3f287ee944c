"""A probe run (``sundial resume --probe``) against the real Temporal dev server and the reference worker:
started and concluded by the operator's own code, counted exactly once by the real run accounting.

Kubernetes is the in-memory stand-in ``tests/support/memory_kube.py`` (merge-patch semantics); every Temporal
call is real. The end-to-end path (CLI, annotations, kube-apiserver, operator process) is
``tests/e2e/test_probe_resume.py``.
"""

from __future__ import annotations

import asyncio

from temporalio.client import Client
from tests.integration.helpers import add_schedule, trigger
from tests.support.memory_kube import MemoryKube
from tests.support.scripted_agent import scripted_query

from sundial.adapters.kube import PROBE_ANNOTATION
from sundial.adapters.temporal import TemporalGateway
from sundial.adapters.temporal_runs import TemporalRuns
from sundial.commands.runs import Query, collect
from sundial.controller import probes
from sundial.controller.accounting import account_once
from sundial.controller.context import OperatorContext
from sundial.domain.validation import Peers


async def request_probe(ctx: OperatorContext, kube: MemoryKube, name: str, token: str) -> dict[str, str]:
    """What the annotation handler does for a new ``sundial.dev/probe-requested``; the acknowledgement."""
    body = kube.bodies["team-a", name]
    body["metadata"]["annotations"][PROBE_ANNOTATION] = token
    assert probes.pending_probe(body) == token
    probes.start_probe(ctx, body, token, "retry", Peers())
    probes.start_probe(ctx, body, token, "retry", Peers())  # the next event of the same resource: no second probe
    await asyncio.wait_for(probes._probes[f"{body['metadata']['uid']}/{token}"], 60)
    requests: dict[str, str] = kube.status(name)["requests"]
    assert requests["probe"] == token and probes.pending_probe(kube.bodies["team-a", name]) is None
    return requests


async def test_a_failed_probe_keeps_the_pause_with_its_error_and_is_counted_once_like_any_run(
    ctx: OperatorContext, kube: MemoryKube, gateway: TemporalGateway, temporal_client: Client, task_queue: str
) -> None:
    query = scripted_query(outcome="fail", cost=0.05, retryable="false")
    sid = await add_schedule(ctx, kube, "probed", task_queue, query, policy={"maxConsecutiveFailures": 1})
    await trigger(gateway, temporal_client, sid)
    await account_once(ctx)
    assert kube.status("probed")["accounting"]["autoPause"]["reason"] == "ConsecutiveFailures"

    requests = await request_probe(ctx, kube, "probed", "2026-12-01T10:00:00.000001Z")
    probe_id = f"probe-{sid}-2026-12-01T10:00:00.000001Z"
    assert requests["probeRun"] == probe_id and requests["probeResult"].startswith("failed: scripted failure")
    status = kube.status("probed")
    paused = next(c for c in status["conditions"] if c["type"] == "Paused")
    assert (paused["status"], paused["reason"]) == ("True", "ConsecutiveFailures")
    assert f"; probe run {probe_id} failed: scripted failure" in paused["message"]
    assert (await gateway.describe(sid)).paused
    assert [e[2] for e in kube.events if e[2].startswith("Probe")] == ["ProbeStarted", "ProbeFailed"]

    first = await account_once(ctx)  # the probe is a run of the schedule: counted, with its cost
    assert first.new_runs == 1
    assert kube.status("probed")["runs"] == {"total": 2, "succeeded": 0, "failed": 2, "running": 0,
                                             "consecutiveFailures": 2}
    assert abs(kube.status("probed")["cost"]["totalUSD"] - 0.10) < 1e-9
    again = await account_once(ctx)  # and only once
    assert (again.new_runs, kube.status("probed")["runs"]["total"]) == (0, 2)

    calls_before = gateway.calls["run_input"]["ok"]
    document = await collect(TemporalRuns(gateway), sid, Query(None, None, None, 1, 1, "json", True, 2000))
    assert [(r["workflowId"], r["status"], r["query"]) for r in document["runs"]] == [(probe_id, "FAILED", query)]
    assert document["runs"][0]["scheduledTime"] is None and document["selection"]["count"] == 2
    assert gateway.calls["run_input"]["ok"] - calls_before == 1  # one first-event read for the one run shown


async def test_a_request_token_unfit_for_a_workflow_id_is_refused_and_starts_nothing(
    ctx: OperatorContext, kube: MemoryKube, gateway: TemporalGateway, temporal_client: Client, task_queue: str
) -> None:
    sid = await add_schedule(ctx, kube, "odd", task_queue, scripted_query())
    requests = await request_probe(ctx, kube, "odd", "x' OR 1=1")
    assert requests["probeResult"] == "refused: the request is not a sundial resume --probe token"
    assert [e async for e in temporal_client.list_workflows(f"WorkflowId STARTS_WITH 'probe-{sid}'")] == []


async def test_a_budget_pause_is_not_probed_a_run_would_only_spend_more(
    ctx: OperatorContext, kube: MemoryKube, gateway: TemporalGateway, temporal_client: Client, task_queue: str
) -> None:
    sid = await add_schedule(ctx, kube, "spent", task_queue, scripted_query(cost=0.05),
                             policy={"maxTotalBudgetUSD": 0.01})
    await trigger(gateway, temporal_client, sid)
    await account_once(ctx)
    assert kube.status("spent")["accounting"]["autoPause"]["reason"] == "BudgetExhausted"
    kube.bodies["team-a", "spent"]["status"]["requests"] = {"probeRun": "probe-of-an-earlier-request"}
    requests = await request_probe(ctx, kube, "spent", "2026-12-01T10:00:00.000002Z")
    assert requests["probeResult"].startswith("refused: the pause is BudgetExhausted")
    assert "probeRun" not in requests
    assert [e async for e in temporal_client.list_workflows(f"WorkflowId STARTS_WITH 'probe-{sid}'")] == []
    assert (await gateway.describe(sid)).paused
