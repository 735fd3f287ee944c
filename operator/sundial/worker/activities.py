"""The activity that runs the pluggable agent, and turns every ending into the contract.

Whatever the agent does (returns, raises ``AgentFailure``, raises anything else, runs
past its deadline), the workflow receives either a ``TaskResult`` dict or an
``ApplicationError`` whose first detail is one. That is what lets run accounting read
a cost for failed runs too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from collections.abc import Mapping, Sequence
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from sundial.domain.contract import (
    AGENT_ACTIVITY_NAME,
    STATUS_FAILED,
    FailureType,
    TaskResult,
    parse_task_result,
)
from sundial.domain.restricted import POLICY_ACTIVITY_NAME, refusal_message, refused_operations
from sundial.worker.agents import Agent, AgentFailure, AgentOutcome, AgentRequest, AgentResult


class AgentActivities:
    """Holds the agent and the worker's policy; its bound activities are what the worker registers."""

    def __init__(self, agent: Agent, allowed_operations: Sequence[str] = ()):
        self._agent = agent
        self._allowed = tuple(allowed_operations)

    @activity.defn(name=POLICY_ACTIVITY_NAME)
    async def allowed_operations(self) -> list[str]:
        """The restricted operations this worker allows (``SUNDIAL_WORKER_ALLOWED_OPERATIONS``)."""
        return list(self._allowed)

    @activity.defn(name=AGENT_ACTIVITY_NAME)
    async def run_agent(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run the agent once, within ``request["timeout_seconds"]``; returns a ``TaskResult`` dict.

        The worker's policy is checked again here and is what the agent gets (the request's
        own ``allowed_operations`` is replaced): the workflow's check is not the only gate.
        """
        agent_request = AgentRequest.from_dict(request)
        refused = refused_operations(agent_request.query, agent_request.context, self._allowed)
        if refused:
            message = refusal_message(refused)
            raise _failure(FailureType.RESTRICTED_OPERATION, message, TaskResult(STATUS_FAILED, error_message=message),
                           retryable=False)
        agent_request = dataclasses.replace(agent_request, allowed_operations=self._allowed)
        deadline = agent_request.timeout_seconds if agent_request.timeout_seconds > 0 else None
        activity.logger.info("running agent for schedule %r", agent_request.schedule_id)
        timer = asyncio.timeout(deadline)
        try:
            async with timer:
                outcome = await call_agent(self._agent, agent_request)
        except AgentFailure as exc:
            raise _failure(FailureType.AGENT_FAILED, exc.message, exc.to_task_result(),
                           retryable=exc.retryable) from exc
        except TimeoutError as exc:
            if not timer.expired():
                raise _unexpected(exc) from exc
            message = f"the agent did not finish within {deadline:g}s"
            outcome_so_far = TaskResult(STATUS_FAILED, error_message=message)
            raise _failure(FailureType.AGENT_TIMEOUT, message, outcome_so_far, retryable=True) from exc
        except Exception as exc:  # any agent bug becomes a failed run, not a stuck one
            raise _unexpected(exc) from exc
        return to_task_result(outcome).to_dict()


async def call_agent(agent: Agent, request: AgentRequest) -> AgentOutcome:
    """Await an async agent; run a sync one in a thread so the worker keeps polling.

    A callable object with an ``async __call__`` is called in the thread too, which only
    creates its coroutine; the coroutine then runs here, on the event loop.
    """
    if inspect.iscoroutinefunction(agent):
        produced: Any = agent(request)
    else:
        produced = await asyncio.to_thread(agent, request)
    if inspect.isawaitable(produced):
        produced = await produced
    outcome: AgentOutcome = produced
    return outcome


def to_task_result(outcome: Any) -> TaskResult:
    """The agent's return value as a completed ``TaskResult``; raises a failed run otherwise."""
    if isinstance(outcome, AgentResult):
        return outcome.to_task_result()
    parsed = parse_task_result(outcome) if isinstance(outcome, Mapping) else None
    if parsed is None:
        message = f"the agent returned {type(outcome).__name__}; expected an AgentResult"
        raise _failure(FailureType.AGENT_FAILED, message, TaskResult(STATUS_FAILED, error_message=message),
                       retryable=False)
    if parsed.status == STATUS_FAILED:
        message = parsed.error_message or "the agent reported a failure"
        raise _failure(FailureType.AGENT_FAILED, message, parsed.failed(message), retryable=True)
    return parsed


def _unexpected(exc: BaseException) -> ApplicationError:
    message = f"the agent raised {type(exc).__name__}: {exc}"
    return _failure(FailureType.AGENT_FAILED, message, TaskResult(STATUS_FAILED, error_message=message),
                    retryable=True)


def _failure(kind: str, message: str, outcome: TaskResult, *, retryable: bool) -> ApplicationError:
    return ApplicationError(message, outcome.to_dict(), type=kind, non_retryable=not retryable)
