"""The reference worker's contract, restricted-operation rule and agent plumbing, without a server."""

from __future__ import annotations

import math
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.converter import DataConverter
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment
from tests.support.scripted_agent import script_of, scripted_agent, scripted_query

from sundial.adapters.temporal_history import outcome_from_close_event
from sundial.domain.contract import (
    FailureType,
    TaskInput,
    TaskResult,
    activity_timeouts,
    parse_task_result,
)
from sundial.domain.restricted import RESTRICTED_OPERATIONS, refused_operations
from sundial.domain.run_records import RunOutcome
from sundial.worker.activities import AgentActivities, call_agent
from sundial.worker.agents import (
    DEMO_AGENT_REF,
    AgentFailure,
    AgentLoadError,
    AgentRequest,
    AgentResult,
    load_agent,
    offline_demo_agent,
)
from sundial.worker.command import describe_agent

SPEC_INPUT = {
    "schedule_id": "sundial-c1-team-a-daily", "task_query": "Generate a digest",
    "task_context": {"output_format": "markdown", "max_budget_usd": 2.0},
    "max_budget_per_run_usd": 2.0, "user_id": "alice", "tenant_id": "team-a",
}
AGENT_FAILED = FailureType.AGENT_FAILED
RESULT_KEYS = {
    "status", "result", "error_message", "model_used", "provider", "total_tokens", "total_cost_usd",
}


def test_task_input_round_trips_the_spec_keys_exactly() -> None:
    task = TaskInput.from_dict(SPEC_INPUT)
    assert task.to_dict() == SPEC_INPUT


def test_task_result_serializes_to_exactly_the_contract_keys() -> None:
    assert set(TaskResult("completed").to_dict()) == RESULT_KEYS


@pytest.mark.parametrize(("top", "context", "budget"), [
    (2.0, None, 2.0),
    (2.0, 1.5, 1.5),          # a budget is a cap: task_context.max_budget_usd may only lower it
    (2.0, 3.0, 2.0),          # never raise it: only the operator's key counts
    (0, None, 0.0),
])
def test_task_input_budget(top: float, context: float | None, budget: float) -> None:
    data: dict[str, Any] = {**SPEC_INPUT, "task_context": {}, "max_budget_per_run_usd": top}
    if context is not None:
        data["task_context"]["max_budget_usd"] = context
    assert TaskInput.from_dict(data).max_budget_per_run_usd == budget


@pytest.mark.parametrize(("data", "names"), [
    ([], "JSON object"),
    ({**SPEC_INPUT, "task_query": None}, "task_query"),
    ({**SPEC_INPUT, "task_context": []}, "task_context"),
    ({**SPEC_INPUT, "max_budget_per_run_usd": -1}, "max_budget_per_run_usd"),
    ({**SPEC_INPUT, "max_budget_per_run_usd": "2"}, "max_budget_per_run_usd"),
    ({**SPEC_INPUT, "max_budget_per_run_usd": math.inf}, "max_budget_per_run_usd"),
    ({**SPEC_INPUT, "task_context": {"max_budget_usd": True}}, "max_budget_usd"),
    ({**SPEC_INPUT, "tenant_id": 3}, "tenant_id"),
    ({"task_query": "q", "task_context": {}}, "missing"),
])
def test_task_input_rejects_malformed_input_naming_the_key(data: Any, names: str) -> None:
    with pytest.raises(ValueError, match=names):
        TaskInput.from_dict(data)


@pytest.mark.parametrize(("data", "expected"), [
    ({"status": "completed", "result": "r", "model_used": "m", "provider": "p", "total_tokens": 5,
      "total_cost_usd": 0.5}, TaskResult("completed", "r", None, "m", "p", 5, 0.5)),
    ({"total_cost_usd": 0.25}, TaskResult("completed", total_cost_usd=0.25)),
    ([{"status": "failed", "total_cost_usd": 0.25}], TaskResult("failed", total_cost_usd=0.25)),
    (({"status": "failed", "error_message": "x"}, "more"), TaskResult("failed", error_message="x")),
    ({"status": "failed", "total_cost_usd": "0.3", "total_tokens": "12"},
     TaskResult("failed", total_tokens=12, total_cost_usd=0.3)),
    ({"status": "failed", "total_cost_usd": -1, "total_tokens": None}, TaskResult("failed")),
    ({"status": "failed", "total_cost_usd": "lots", "model_used": 7}, TaskResult("failed")),
    ({"status": "failed", "total_cost_usd": math.nan}, TaskResult("failed")),
    ({"unrelated": 1}, None),
    ([], None),
    (None, None),
    ("completed", None),
    (42, None),
])
def test_parse_task_result_is_tolerant(data: Any, expected: TaskResult | None) -> None:
    assert parse_task_result(data) == expected


@pytest.mark.parametrize(("query", "context", "allowed", "refused"), [
    ("Generate a daily news digest", {}, (), ()),
    ("Generate a digest", {"operations": ["web_search"]}, (), ()),
    ("Tidy up", {"operations": ["delete_data"]}, (), ("delete_data",)),
    ("Tidy up", {"operations": "delete_data"}, (), ("delete_data",)),
    ("Tidy up", {"operations": ["Delete_Data "]}, (), ("delete_data",)),
    ("Summarize then send_email to the team", {}, (), ("send_email",)),
    ("SEND_EMAIL the digest", {}, (), ("send_email",)),
    ("make_purchase, then modify_permissions", {}, (), ("make_purchase", "modify_permissions")),
    ("q", {"operations": ["send_email", "delete_data"]}, ("send_email",), ("delete_data",)),
    ("q", {"operations": list(RESTRICTED_OPERATIONS)}, RESTRICTED_OPERATIONS, ()),
    ("q", {}, ("delete_data",), ()),  # allowing is not asking
])
def test_restricted_operations_are_refused_unless_the_worker_allows_them(
    query: str, context: dict[str, Any], allowed: tuple[str, ...], refused: tuple[str, ...]
) -> None:
    assert refused_operations(query, context, allowed) == refused


@pytest.mark.parametrize(("query", "context"), [
    ("send_email", {"allowed_operations": ["send_email"]}),  # the task's own context grants nothing
    ("q", {"operations": ["make_purchase"], "allowed_operations": list(RESTRICTED_OPERATIONS)}),
])
def test_the_task_context_cannot_allow_a_restricted_operation(query: str, context: dict[str, Any]) -> None:
    assert refused_operations(query, context) != ()


@pytest.mark.parametrize(("query", "operation"), [
    ("Digest, then sendEmail to the team", "send_email"),            # camelCase
    ("Digest, then send an email to the team", "send_email"),        # prose
    ("Digest, then ｓｅｎｄ＿ｅｍａｉｌ", "send_email"),               # full-width letters (NFKC)
    ("Digest, then SEND-E-MAIL", "send_email"),                      # separators, case
    ("Digest, then send\u200bemail", "send_email"),                 # a zero-width space between words
    ("Digest, then se\u00adnd an email", "send_email"),             # a soft hyphen inside a word
    ("Digest, then sendemail", "send_email"),                        # one word
    ("Please delete the old records", "delete_data"),
    ("Buy 100 credits", "make_purchase"),
    ("Grant admin access to bob", "modify_permissions"),
])
def test_spellings_of_a_restricted_operation_are_normalised_before_matching(query: str, operation: str) -> None:
    assert refused_operations(query, {}) == (operation,)
    assert refused_operations(query, {}, (operation,)) == ()
    assert refused_operations("q", {"operations": [query.rsplit("then ", 1)[-1]]}) == (operation,)


@pytest.mark.parametrize("context", [
    {"operations": [1]}, {"operations": {"send_email": True}},
])
def test_malformed_operation_lists_are_invalid_input(context: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="operation names"):
        refused_operations("q", context)


@pytest.mark.parametrize(("run", "activity", "agent"), [
    (None, 570.0, 565.0), (600.0, 570.0, 565.0), (0.0, 570.0, 565.0), (10.0, 9.0, 8.5),
    (4.0, 3.0, 2.5), (3600.0, 3570.0, 3565.0), (1.0, 0.5, 0.25),
])
def test_agent_deadlines_end_before_the_run_timeout(run: float | None, activity: float, agent: float) -> None:
    assert activity_timeouts(run) == (activity, agent)


def test_agent_request_round_trips_and_guards_restricted_tools() -> None:
    request = AgentRequest("q", {"a": 1}, 2.0, 30.0, "s", "t", "u", ("send_email",))
    assert AgentRequest.from_dict(request.to_dict()) == request
    assert request.allows("send_email") and request.allows("sendEmail") and request.allows("web_search")
    assert not request.allows("delete_data") and not request.allows("DeleteData")


def test_load_agent_imports_the_offline_demo() -> None:
    assert load_agent(DEMO_AGENT_REF) is offline_demo_agent


@pytest.mark.parametrize(("ref", "reason"), [
    ("sundial.worker.agents", "package.module:function"),
    ("no.such.module:agent", "cannot import"),
    ("sundial.worker.agents:missing", "no attribute"),
    ("sundial.worker.agents:DEMO_MODEL", "not callable"),
])
def test_load_agent_explains_a_bad_reference(ref: str, reason: str) -> None:
    with pytest.raises(AgentLoadError, match=reason):
        load_agent(ref)


async def test_offline_demo_echoes_the_query_for_free() -> None:
    result = await offline_demo_agent(AgentRequest("hello"))
    assert "hello" in result.result and "offline demo" in result.result
    assert (result.model_used, result.provider, result.total_cost_usd) == ("offline-demo", "sundial", 0.0)
    assert "OFFLINE DEMO" in describe_agent(DEMO_AGENT_REF)


def test_scripted_query_spells_the_script_the_agent_reads() -> None:
    query = scripted_query("digest", outcome="fail", cost=0.25, tokens=1200)
    assert script_of(query) == {"outcome": "fail", "cost": "0.25", "tokens": "1200"}


def _sync_agent(request: AgentRequest) -> AgentResult:
    return AgentResult(f"sync {request.query}", "m", "p", 3, 0.01)


async def test_sync_and_async_agents_are_both_called() -> None:
    assert (await call_agent(_sync_agent, AgentRequest("q"))) == AgentResult("sync q", "m", "p", 3, 0.01)
    scripted = await call_agent(scripted_agent, AgentRequest(scripted_query(cost=0.5)))
    assert isinstance(scripted, AgentResult) and scripted.total_cost_usd == 0.5


async def _run_activity(agent: Any, query: str, agent_seconds: float = 5.0) -> dict[str, Any]:
    activities = AgentActivities(agent)
    result: dict[str, Any] = await ActivityEnvironment().run(
        activities.run_agent, AgentRequest(query, timeout_seconds=agent_seconds).to_dict())
    return result


async def test_activity_returns_the_agents_result_as_a_task_result() -> None:
    result = await _run_activity(scripted_agent, scripted_query(cost=0.1, tokens=7, model="gpt-4o"))
    assert parse_task_result(result) == TaskResult("completed", result["result"], None, "gpt-4o",
                                                   "sundial-tests", 7, 0.1)


async def test_activity_accepts_a_mapping_from_the_agent() -> None:
    result = await _run_activity(lambda request: {"result": "ok", "total_cost_usd": 0.2}, "q")
    assert (result["status"], result["total_cost_usd"]) == ("completed", 0.2)


@pytest.mark.parametrize(("agent", "query", "kind", "cost", "non_retryable"), [
    (scripted_agent, scripted_query(outcome="fail", cost=0.25, tokens=9), AGENT_FAILED, 0.25, False),
    (scripted_agent, scripted_query(outcome="fail", retryable="false"), AGENT_FAILED, 0.0, True),
    (scripted_agent, scripted_query(outcome="crash"), AGENT_FAILED, 0.0, False),
    (scripted_agent, scripted_query(outcome="timeout"), FailureType.AGENT_TIMEOUT, 0.0, False),
    (lambda request: "just text", "q", AGENT_FAILED, 0.0, True),
    (lambda request: {"status": "failed", "total_cost_usd": 0.4}, "q", AGENT_FAILED, 0.4, False),
])
async def test_activity_turns_every_failure_into_an_error_carrying_a_task_result(
    agent: Any, query: str, kind: str, cost: float, non_retryable: bool
) -> None:
    with pytest.raises(ApplicationError) as caught:
        await _run_activity(agent, query, agent_seconds=0.2)
    outcome = parse_task_result(caught.value.details)
    assert (caught.value.type, caught.value.non_retryable) == (kind, non_retryable)
    assert outcome is not None and outcome.status == "failed" and outcome.total_cost_usd == cost
    assert outcome.error_message


def test_agent_failure_keeps_what_was_spent() -> None:
    failure = AgentFailure("boom", 0.3, 100, "m", "p")
    assert failure.to_task_result() == TaskResult("failed", None, "boom", "m", "p", 100, 0.3)


def _failed_event(details: dict[str, Any], wrap: bool) -> HistoryEvent:
    event = HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED)
    application = Failure(message="agent failed")
    application.application_failure_info.type = FailureType.AGENT_FAILED
    application.application_failure_info.details.payloads.extend(
        DataConverter.default.payload_converter.to_payloads([details]))
    if wrap:  # a workflow that let the activity's ApplicationError propagate
        outer = Failure(message="Activity task failed")
        outer.activity_failure_info.activity_type.name = "x"
        outer.cause.CopyFrom(application)
        application = outer
    event.workflow_execution_failed_event_attributes.failure.CopyFrom(application)
    return event


@pytest.mark.parametrize("wrapped", [False, True])
def test_close_event_of_a_failed_run_yields_its_cost(wrapped: bool) -> None:
    details = TaskResult("failed", error_message="x", total_cost_usd=0.25, total_tokens=3).to_dict()
    outcome = outcome_from_close_event(_failed_event(details, wrapped))
    assert outcome is not None and outcome.status == "FAILED"
    assert outcome.failure_type == FailureType.AGENT_FAILED
    assert outcome.task_result == TaskResult("failed", error_message="x", total_tokens=3, total_cost_usd=0.25)


def test_a_retried_attempt_closed_as_continued_as_new_is_a_failed_run_with_its_cost() -> None:
    failed = _failed_event(TaskResult("failed", total_cost_usd=0.1).to_dict(), wrap=False)
    event = HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW)
    attributes = event.workflow_execution_continued_as_new_event_attributes
    attributes.failure.CopyFrom(failed.workflow_execution_failed_event_attributes.failure)
    attributes.new_execution_run_id = "run-2"
    outcome = outcome_from_close_event(event)
    assert outcome is not None and (outcome.status, outcome.retried_in_run_id) == ("FAILED", "run-2")
    assert outcome.task_result is not None and outcome.task_result.total_cost_usd == 0.1


def test_a_workflows_own_continue_as_new_carries_no_outcome() -> None:
    event = HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW)
    event.workflow_execution_continued_as_new_event_attributes.new_execution_run_id = "run-2"
    assert outcome_from_close_event(event) == RunOutcome("CONTINUED_AS_NEW", None)


def test_close_events_without_an_outcome_have_no_cost() -> None:
    timed_out = HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT)
    timed_out.workflow_execution_timed_out_event_attributes.SetInParent()
    outcome = outcome_from_close_event(timed_out)
    assert outcome is not None and (outcome.status, outcome.task_result) == ("TIMED_OUT", None)
    started = HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)
    assert outcome_from_close_event(started) is None
