"""The reference contract between a schedule's runs and everything that reads them.

The operator starts ``ScheduledTaskWorkflow`` with a plain JSON object (``TaskInput``), and
a custom workflow (``spec.workflow.args``) with Sundial's envelope (``run_envelope``) as its
first argument, the user's arguments after it. Either way the keys of ``OPERATOR_KEYS``
(schedule, tenant, user, budget) are written by the operator, never taken from the spec;
the workflow ends with a plain JSON object (``TaskResult``) and run accounting reads
cost, tokens and model back from it. Both sides only share these key names, so they
live here, pure, with no Temporal import: the operator, the workflow sandbox and the
tests can all use them.

Where a run's outcome lives in Temporal (``history.py`` reads both for you):

* completed run: the workflow result, i.e. the close event
  ``workflow_execution_completed_event_attributes.result.payloads[0]`` (JSON of a
  ``TaskResult``, ``status: "completed"``); from a client, ``await handle.result()``.
* failed run: the workflow raised an ``ApplicationError`` whose first detail is a
  ``TaskResult`` with ``status: "failed"`` and the cost spent so far: the close event
  ``workflow_execution_failed_event_attributes.failure.application_failure_info.details.payloads[0]``
  (the error type, one of ``FailureType``, is ``...application_failure_info.type``).
  From a client, ``WorkflowFailureError.cause`` is that ``ApplicationError`` and
  ``.details[0]`` the dict.
* a failed attempt that the workflow retry policy retries closes with a ContinuedAsNew
  event instead: the same failure sits in
  ``workflow_execution_continued_as_new_event_attributes.failure`` (visibility lists the
  attempt as ``ContinuedAsNew``; count its cost all the same).
* timed out, cancelled or terminated runs carry no outcome: their cost is unknown.

Restricted operations are ``sundial.domain.restricted``: which ones a
task asks for, and which the worker's policy allows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final

#: Name the reference workflow is registered under (the default ``spec.workflow.type``).
WORKFLOW_NAME: Final = "ScheduledTaskWorkflow"
#: Name of the activity that runs the agent.
AGENT_ACTIVITY_NAME: Final = "sundial.run_agent"
#: Budget when the input names none (the default of ``spec.maxBudgetPerRunUSD``).
DEFAULT_MAX_BUDGET_USD: Final = 10.0
#: Run timeout assumed when the workflow has none (the default of ``spec.timeoutSeconds``).
DEFAULT_RUN_TIMEOUT_SECONDS: Final = 600.0

#: Keys of a run's first argument that only the operator writes, whatever the spec says.
OPERATOR_KEYS: Final = ("schedule_id", "tenant_id", "user_id", "max_budget_per_run_usd")

STATUS_COMPLETED: Final = "completed"
STATUS_FAILED: Final = "failed"


class FailureType:
    """``ApplicationError.type`` of a failed run; documented constants, not free text."""

    INVALID_INPUT: Final = "InvalidTaskInput"
    RESTRICTED_OPERATION: Final = "RestrictedOperation"
    BUDGET_EXCEEDED: Final = "BudgetExceeded"
    AGENT_FAILED: Final = "AgentFailed"
    AGENT_TIMEOUT: Final = "AgentTimeout"


@dataclass(frozen=True)
class TaskInput:
    """The single argument of ``ScheduledTaskWorkflow``: what the operator sends, what the worker reads."""

    task_query: str
    task_context: dict[str, Any] = field(default_factory=dict)
    max_budget_per_run_usd: float = DEFAULT_MAX_BUDGET_USD
    schedule_id: str = ""
    user_id: str = ""
    tenant_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> TaskInput:
        """Validate a decoded input; raises ``ValueError`` naming the bad key.

        Identity and budget are read from the keys only the operator writes (``OPERATOR_KEYS``),
        never from ``task_context``, which the user writes: a missing one means the input was not
        written by Sundial. ``task_context.max_budget_usd`` may only lower the budget (a budget is
        a cap).
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"workflow input must be a JSON object, got {type(data).__name__}")
        missing = [key for key in OPERATOR_KEYS if key not in data]
        if missing:
            raise ValueError(f"{', '.join(missing)} missing: the operator writes them into every run's input")
        query = data.get("task_query")
        if not isinstance(query, str):
            raise ValueError("task_query must be a string")
        context = data.get("task_context")
        context = {} if context is None else context
        if not isinstance(context, Mapping):
            raise ValueError("task_context must be a JSON object")
        budget = _budget("max_budget_per_run_usd", data.get("max_budget_per_run_usd"))
        lower = context.get("max_budget_usd")
        if lower is not None:
            budget = min(budget, _budget("task_context.max_budget_usd", lower))
        return cls(
            task_query=query,
            task_context=dict(context),
            max_budget_per_run_usd=budget,
            schedule_id=_string(data, "schedule_id"),
            user_id=_string(data, "user_id"),
            tenant_id=_string(data, "tenant_id"),
        )


def run_envelope(schedule_id: str, tenant_id: str, user_id: str, max_budget_per_run_usd: float) -> dict[str, Any]:
    """The first argument of a custom workflow's runs (``spec.workflow.args`` follow it): who runs it,
    for which schedule, within what budget. Written by the operator alone; a spec cannot change it."""
    return {"schedule_id": schedule_id, "tenant_id": tenant_id, "user_id": user_id,
            "max_budget_per_run_usd": max_budget_per_run_usd}


def _string(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value


def _budget(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class TaskResult:
    """The outcome of one run: the workflow result, or the first detail of its failure."""

    status: str
    result: Any = None
    error_message: str | None = None
    model_used: str | None = None
    provider: str | None = None
    total_tokens: int = 0
    total_cost_usd: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def failed(self, message: str) -> TaskResult:
        """The same accounting (cost, tokens, model) as a failed outcome."""
        return TaskResult(STATUS_FAILED, None, message, self.model_used, self.provider,
                          self.total_tokens, self.total_cost_usd)


def parse_task_result(data: Any) -> TaskResult | None:
    """Read a ``TaskResult`` from a workflow result or failure details, tolerantly.

    Accepts the dict itself or a details sequence whose first item is the dict.
    Missing or malformed fields fall back to defaults (cost 0, tokens 0); returns
    ``None`` when ``data`` is not an object carrying any ``TaskResult`` key.
    """
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        data = data[0] if data else None
    if not isinstance(data, Mapping) or not any(key in data for key in _RESULT_KEYS):
        return None
    status = data.get("status")
    return TaskResult(
        status=status if isinstance(status, str) and status else STATUS_COMPLETED,
        result=data.get("result"),
        error_message=_optional_str(data.get("error_message")),
        model_used=_optional_str(data.get("model_used")),
        provider=_optional_str(data.get("provider")),
        total_tokens=int(_non_negative(data.get("total_tokens"))),
        total_cost_usd=_non_negative(data.get("total_cost_usd")),
    )


_RESULT_KEYS: Final = frozenset(TaskResult.__dataclass_fields__)


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _non_negative(value: Any) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0.0
    return max(float(value), 0.0)


def activity_timeouts(run_timeout_seconds: float | None) -> tuple[float, float]:
    """(activity start-to-close timeout, agent deadline) in seconds for a run timeout.

    Both end before the run timeout so that a slow agent fails the run with an
    ``AgentTimeout`` the accounting can read, rather than a bare workflow timeout.
    """
    run = DEFAULT_RUN_TIMEOUT_SECONDS
    if run_timeout_seconds is not None and run_timeout_seconds > 0:
        run = run_timeout_seconds
    activity = run - min(30.0, max(1.0, run * 0.1), run / 2)
    agent = activity - min(5.0, max(0.5, activity * 0.02), activity / 2)
    return activity, agent
