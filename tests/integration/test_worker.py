"""The reference worker against a real Temporal dev server: outcomes, guard rails, the process.

Each test runs its own worker on its own task queue with the scripted agent (its query
says what the agent does) and starts ``ScheduledTaskWorkflow`` directly with the input
the operator builds (``domain.contract.TaskInput``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType, PendingActivityState
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle, WorkflowHistoryEventFilterType
from temporalio.common import RetryPolicy
from temporalio.converter import DataConverter
from temporalio.exceptions import ApplicationError
from tests.support.in_process_worker import running_worker
from tests.support.scripted_agent import scripted_agent, scripted_query
from tests.support.waiting import eventually_async

from sundial.adapters.temporal_history import outcome_from_close_event
from sundial.domain.contract import FailureType, parse_task_result
from sundial.domain.run_records import RunOutcome
from sundial.worker.agents import DEMO_AGENT_REF

REPO_ROOT = Path(__file__).resolve().parents[2]
SUNDIAL = Path(sys.executable).parent / "sundial"


def task_input(query: str, context: dict[str, Any] | None = None, budget: float = 2.0) -> dict[str, Any]:
    """The workflow argument exactly as the operator builds it."""
    return {
        "schedule_id": "sundial-test-team-a-digest", "task_query": query,
        "task_context": {**(context or {}), "max_budget_usd": budget},
        "max_budget_per_run_usd": budget, "user_id": "alice", "tenant_id": "team-a",
    }


async def start(
    client: Client, queue: str, argument: dict[str, Any], run_timeout: float = 60,
    retry: RetryPolicy | None = None,
) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(
        "ScheduledTaskWorkflow", argument, id=f"run-{uuid.uuid4().hex}", task_queue=queue,
        run_timeout=timedelta(seconds=run_timeout), retry_policy=retry,
    )


async def failure_of(handle: WorkflowHandle[Any, Any]) -> ApplicationError:
    """How a client reads a failed run: ``WorkflowFailureError.cause`` is the ``ApplicationError``."""
    with pytest.raises(WorkflowFailureError) as caught:
        await asyncio.wait_for(handle.result(), 60)  # follows retried runs to the last
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def close_event(client: Client, workflow_id: str, run_id: str | None) -> HistoryEvent:
    """How run accounting reads a closed run: only its close event, no full history."""
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    events = [event async for event in handle.fetch_history_events(
        event_filter_type=WorkflowHistoryEventFilterType.CLOSE_EVENT)]
    return events[-1]


async def outcome(client: Client, handle: WorkflowHandle[Any, Any]) -> RunOutcome:
    result = outcome_from_close_event(await close_event(client, handle.id, handle.result_run_id))
    assert result is not None
    return result


async def agent_was_scheduled(handle: WorkflowHandle[Any, Any]) -> bool:
    return EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED in await event_types(handle)


async def event_types(handle: WorkflowHandle[Any, Any]) -> list[EventType.ValueType]:
    return [event.event_type async for event in handle.fetch_history_events()]


async def test_a_successful_run_returns_its_result_with_cost_tokens_and_model(
    temporal_client: Client, task_queue: str
) -> None:
    query = scripted_query("digest", cost=0.45, tokens=12500, model="gpt-4o")
    handle = await start(temporal_client, task_queue, task_input(query))
    result = await asyncio.wait_for(handle.result(), 60)
    assert result == {
        "status": "completed", "result": f"scripted answer to: {query}",
        "error_message": None, "model_used": "gpt-4o", "provider": "sundial-tests",
        "total_tokens": 12500, "total_cost_usd": 0.45,
    }


async def test_a_completed_runs_outcome_is_the_result_payload_of_its_close_event(
    temporal_client: Client, task_queue: str
) -> None:
    handle = await start(temporal_client, task_queue, task_input(scripted_query(cost=0.1, tokens=10)))
    await asyncio.wait_for(handle.result(), 60)
    event = await close_event(temporal_client, handle.id, handle.result_run_id)
    payloads = event.workflow_execution_completed_event_attributes.result.payloads
    assert DataConverter.default.payload_converter.from_payloads(payloads)[0]["total_cost_usd"] == 0.1
    run = outcome_from_close_event(event)
    assert run is not None and run.status == "COMPLETED"
    assert run.task_result is not None
    assert (run.task_result.total_cost_usd, run.task_result.total_tokens) == (0.1, 10)


async def test_a_failed_agent_fails_the_run_and_the_failure_details_carry_its_cost(
    temporal_client: Client, task_queue: str
) -> None:
    handle = await start(temporal_client, task_queue,
                         task_input(scripted_query(outcome="fail", cost=0.25, tokens=1200, model="m1")))
    error = await failure_of(handle)
    assert error.type == FailureType.AGENT_FAILED and "scripted failure" in error.message
    details = parse_task_result(error.details)
    assert details is not None
    assert (details.status, details.total_cost_usd, details.total_tokens, details.model_used) == \
        ("failed", 0.25, 1200, "m1")


async def test_a_failed_runs_cost_is_in_the_failure_details_of_its_close_event(
    temporal_client: Client, task_queue: str
) -> None:
    handle = await start(temporal_client, task_queue, task_input(scripted_query(outcome="fail", cost=0.25)))
    await failure_of(handle)
    event = await close_event(temporal_client, handle.id, handle.result_run_id)
    info = event.workflow_execution_failed_event_attributes.failure.application_failure_info
    assert info.type == FailureType.AGENT_FAILED
    details = DataConverter.default.payload_converter.from_payloads(info.details.payloads)
    assert details[0]["total_cost_usd"] == 0.25
    run = outcome_from_close_event(event)
    assert run is not None and (run.status, run.failure_type) == ("FAILED", FailureType.AGENT_FAILED)
    assert run.task_result is not None and run.task_result.total_cost_usd == 0.25


async def test_an_agent_that_crashes_fails_the_run_with_its_error(
    temporal_client: Client, task_queue: str
) -> None:
    handle = await start(temporal_client, task_queue, task_input(scripted_query(outcome="crash")))
    error = await failure_of(handle)
    assert error.type == FailureType.AGENT_FAILED and "RuntimeError: scripted crash" in error.message


@pytest.mark.parametrize(("query", "context"), [
    ("Clean up old records", {"operations": ["delete_data"]}),
    ("Write the digest, then send_email to the team", {}),
    ("Write the digest, then sendEmail to the team", {}),
    ("Write the digest, then send an email to the team", {}),
    ("Write the digest, then ｓｅｎｄ＿ｅｍａｉｌ to the team", {}),
    ("Buy credits", {"operations": ["make_purchase"], "allowed_operations": ["make_purchase"]}),
])
async def test_a_restricted_operation_without_permission_is_refused_before_the_agent_runs(
    temporal_client: Client, task_queue: str, query: str, context: dict[str, Any]
) -> None:
    handle = await start(temporal_client, task_queue, task_input(query, context))
    error = await failure_of(handle)
    assert error.type == FailureType.RESTRICTED_OPERATION and error.non_retryable
    assert "SUNDIAL_WORKER_ALLOWED_OPERATIONS" in error.message
    assert parse_task_result(error.details) is not None
    assert not await agent_was_scheduled(handle)


async def test_a_restricted_operation_runs_when_the_worker_allows_it(temporal_client: Client) -> None:
    query = "Digest, then sendEmail to the team"
    async with running_worker(temporal_client, allowed=("send_email",)) as queue:
        handle = await start(temporal_client, queue, task_input(query, {"operations": ["send_email"]}))
        assert (await asyncio.wait_for(handle.result(), 60))["status"] == "completed"
        refused = await start(temporal_client, queue, task_input("Digest, then delete the old records"))
        assert (await failure_of(refused)).type == FailureType.RESTRICTED_OPERATION


async def test_a_run_over_its_budget_fails_with_budget_exceeded_and_keeps_its_cost(
    temporal_client: Client, task_queue: str
) -> None:
    argument = task_input(scripted_query(cost=2.5, tokens=9), budget=2.0)
    handle = await start(temporal_client, task_queue, argument)
    error = await failure_of(handle)
    assert error.type == FailureType.BUDGET_EXCEEDED and error.non_retryable
    details = parse_task_result(error.details)
    assert details is not None and (details.status, details.total_cost_usd, details.total_tokens) == \
        ("failed", 2.5, 9)


async def test_an_agent_past_its_deadline_fails_the_run_before_the_run_timeout(
    temporal_client: Client, task_queue: str
) -> None:
    argument = task_input(scripted_query(outcome="timeout"))
    handle = await start(temporal_client, task_queue, argument, run_timeout=4)
    error = await failure_of(handle)
    assert error.type == FailureType.AGENT_TIMEOUT
    assert (await outcome(temporal_client, handle)).status == "FAILED"


async def test_malformed_input_fails_the_run_without_running_the_agent(
    temporal_client: Client, task_queue: str
) -> None:
    handle = await start(temporal_client, task_queue, {**task_input("q"), "task_query": 42})
    error = await failure_of(handle)
    assert error.type == FailureType.INVALID_INPUT and "task_query" in error.message
    assert not await agent_was_scheduled(handle)


async def test_the_workflow_retry_policy_retries_a_failed_agent(
    temporal_client: Client, task_queue: str
) -> None:
    retry = RetryPolicy(maximum_attempts=2, initial_interval=timedelta(milliseconds=100))
    handle = await start(temporal_client, task_queue, task_input(scripted_query(outcome="fail", cost=0.1)),
                         retry=retry)
    await failure_of(handle)
    first = await outcome(temporal_client, handle)  # closed as ContinuedAsNew, reported as FAILED
    assert first.status == "FAILED" and first.retried_in_run_id is not None
    assert first.task_result is not None and first.task_result.total_cost_usd == 0.1
    second = outcome_from_close_event(await close_event(temporal_client, handle.id, first.retried_in_run_id))
    assert second is not None and second.retried_in_run_id is None
    assert second.task_result is not None and second.task_result.total_cost_usd == 0.1


@pytest.mark.parametrize("query", [
    scripted_query(cost=3.0), scripted_query(outcome="fail", retryable="false"),
])
async def test_budget_overruns_and_final_agent_failures_are_not_retried(
    temporal_client: Client, task_queue: str, query: str
) -> None:
    retry = RetryPolicy(maximum_attempts=3, initial_interval=timedelta(milliseconds=100))
    handle = await start(temporal_client, task_queue, task_input(query), retry=retry)
    await failure_of(handle)
    assert (await outcome(temporal_client, handle)).retried_in_run_id is None


async def test_the_offline_demo_agent_echoes_the_query_at_no_cost(temporal_client: Client) -> None:
    async with running_worker(temporal_client, DEMO_AGENT_REF) as queue:
        handle = await start(temporal_client, queue, task_input("hello"))
        result = await asyncio.wait_for(handle.result(), 60)
    assert "hello" in result["result"] and "offline demo" in result["result"]
    assert (result["model_used"], result["provider"], result["total_cost_usd"]) == \
        ("offline-demo", "sundial", 0.0)


@asynccontextmanager
async def worker_process(
    client: Client, queue: str, log: Path, agent: str = "tests.support.scripted_agent:scripted_agent"
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``sundial worker`` as its own process, as e2e tests and users run it."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    address = client.service_client.config.target_host
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            str(SUNDIAL), "worker", "--address", address, "--namespace", client.namespace,
            "--task-queue", queue, "--agent", agent, "--graceful-shutdown-seconds", "20",
            stdout=out, stderr=asyncio.subprocess.STDOUT, env=env,
        )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_the_worker_process_runs_workflows_and_exits_cleanly_on_sigterm(
    temporal_client: Client, tmp_path: Path
) -> None:
    queue = f"worker-process-{uuid.uuid4().hex[:10]}"
    log = tmp_path / "worker.log"
    async with worker_process(temporal_client, queue, log) as proc:
        handle = await start(temporal_client, queue, task_input(scripted_query(cost=0.3)))
        assert (await asyncio.wait_for(handle.result(), 60))["total_cost_usd"] == 0.3
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0, log.read_text()
    text = log.read_text()
    assert "agent tests.support.scripted_agent:scripted_agent" in text
    assert "SIGTERM received" in text and "stopped cleanly" in text


async def test_sigterm_lets_a_running_agent_finish_and_no_run_is_lost(
    temporal_client: Client, tmp_path: Path
) -> None:
    queue = f"worker-process-{uuid.uuid4().hex[:10]}"
    log = tmp_path / "worker.log"
    async with worker_process(temporal_client, queue, log) as proc:
        handle = await start(temporal_client, queue, task_input(scripted_query(sleep=2, cost=0.2)))

        async def agent_running() -> bool:
            pending = (await handle.describe()).raw_description.pending_activities
            return bool(pending) and pending[0].state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED

        await eventually_async("the agent activity starting", agent_running, timeout=30, interval=0.1)
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0, log.read_text()

    assert EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED in await event_types(handle), \
        "the running agent was cut off by the shutdown"
    async with running_worker(temporal_client, scripted_agent, queue):  # the next worker finishes the run
        assert (await asyncio.wait_for(handle.result(), 60))["total_cost_usd"] == 0.2
