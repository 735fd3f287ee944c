"""``ScheduledTaskWorkflow``: one scheduled agent task, with its guard rails.

The workflow is the part of a run Temporal records, so the rules that must hold for
every run live here rather than in the agent: restricted operations are refused
before any agent runs (by the worker's policy, read through a local activity so the
history records it; the agent activity checks it again), the agent gets the run's budget and a deadline inside the run
timeout, and a run that spent more than its budget fails. Every failure carries a
``TaskResult`` as its first detail so run accounting sees the cost of failed runs too
(see ``contract.py`` for where exactly).

Retries: the agent activity runs once per run; the schedule's workflow retry policy
(``spec.workflow.retry``) decides whether a failed run is tried again. Refusals, bad
input and budget overruns are non-retryable (another attempt cannot succeed, or would
spend again); agent failures and timeouts are retryable unless the agent said otherwise.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError
from temporalio.exceptions import TimeoutError as ActivityTimeoutError

with workflow.unsafe.imports_passed_through():
    from sundial.domain.contract import (
        AGENT_ACTIVITY_NAME,
        STATUS_FAILED,
        WORKFLOW_NAME,
        FailureType,
        TaskInput,
        TaskResult,
        activity_timeouts,
        parse_task_result,
    )
    from sundial.domain.restricted import POLICY_ACTIVITY_NAME, refusal_message, refused_operations
    from sundial.worker.agents import AgentRequest

#: Rounding slack when comparing a reported cost with the budget.
_COST_EPSILON: Final = 1e-9


@workflow.defn(name=WORKFLOW_NAME)
class ScheduledTaskWorkflow:
    """Runs the agent for one scheduled task and returns a ``TaskResult`` dict."""

    @workflow.run
    async def run(self, task: dict[str, Any]) -> dict[str, Any]:
        allowed = await workflow.execute_local_activity(  # the worker's policy, recorded in the history
            POLICY_ACTIVITY_NAME, result_type=list, start_to_close_timeout=timedelta(seconds=10))
        try:
            task_input = TaskInput.from_dict(task)
            refused = refused_operations(task_input.task_query, task_input.task_context, allowed)
        except ValueError as exc:
            raise _fail(FailureType.INVALID_INPUT, f"invalid task input: {exc}", retryable=False) from None
        if refused:
            raise _fail(FailureType.RESTRICTED_OPERATION, refusal_message(refused), retryable=False)

        run_timeout = workflow.info().run_timeout
        run_seconds = run_timeout.total_seconds() if run_timeout is not None else None
        activity_seconds, agent_seconds = activity_timeouts(run_seconds)
        request = AgentRequest(
            query=task_input.task_query,
            context=task_input.task_context,
            max_budget_usd=task_input.max_budget_per_run_usd,
            timeout_seconds=agent_seconds,
            schedule_id=task_input.schedule_id,
            tenant_id=task_input.tenant_id,
            user_id=task_input.user_id,
            allowed_operations=tuple(str(name) for name in allowed),
        )
        try:
            raw = await workflow.execute_activity(
                AGENT_ACTIVITY_NAME,
                request.to_dict(),
                result_type=dict,
                start_to_close_timeout=timedelta(seconds=activity_seconds),
                retry_policy=RetryPolicy(maximum_attempts=1),
            )
        except ActivityError as exc:
            if isinstance(exc.cause, CancelledError):
                raise  # the run itself was cancelled: let Temporal record a cancellation
            raise _from_activity_error(exc) from None

        outcome = parse_task_result(raw)
        if outcome is None:
            raise _fail(FailureType.AGENT_FAILED, "the agent activity returned no result", retryable=False)
        budget = task_input.max_budget_per_run_usd
        if outcome.total_cost_usd > budget + _COST_EPSILON:
            message = f"the run cost ${outcome.total_cost_usd:.4f}, over its budget of ${budget:.4f}"
            raise _fail(FailureType.BUDGET_EXCEEDED, message, outcome.failed(message), retryable=False)
        workflow.logger.info("agent finished: $%.4f, %d tokens", outcome.total_cost_usd, outcome.total_tokens)
        return outcome.to_dict()


def _from_activity_error(exc: ActivityError) -> ApplicationError:
    """The run's failure for an agent activity that failed, keeping the cost it reported."""
    cause = exc.cause
    if isinstance(cause, ApplicationError):
        message = cause.message
        outcome = parse_task_result(cause.details) or TaskResult(STATUS_FAILED, error_message=message)
        kinds = (FailureType.AGENT_FAILED, FailureType.AGENT_TIMEOUT, FailureType.RESTRICTED_OPERATION)
        kind = cause.type if cause.type in kinds else FailureType.AGENT_FAILED
        return _fail(kind, message, outcome.failed(message), retryable=not cause.non_retryable)
    if isinstance(cause, ActivityTimeoutError):
        message = f"the agent activity timed out ({cause.type.name if cause.type else 'unknown'})"
        return _fail(FailureType.AGENT_TIMEOUT, message, retryable=True)
    message = f"the agent activity failed: {cause or exc}"
    return _fail(FailureType.AGENT_FAILED, message, retryable=True)


def _fail(kind: str, message: str, outcome: TaskResult | None = None, *, retryable: bool) -> ApplicationError:
    """An error that fails the run, with a failed ``TaskResult`` (cost 0 unless given) as details."""
    details = outcome if outcome is not None else TaskResult(STATUS_FAILED, error_message=message)
    return ApplicationError(message, details.to_dict(), type=kind, non_retryable=not retryable)
