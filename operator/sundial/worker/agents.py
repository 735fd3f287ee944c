"""What an agent is to the reference worker, and the offline demo agent.

The worker does not know any model vendor. A team plugs in its own agent as
``package.module:function`` (``sundial worker --agent mypkg.agents:research``): a plain
function, sync or async, that takes an ``AgentRequest`` and returns an ``AgentResult``
(or raises ``AgentFailure`` carrying what was spent before it failed). This module is
pure, so the workflow sandbox can import it to build requests.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias

from sundial.domain.contract import STATUS_COMPLETED, STATUS_FAILED, TaskResult
from sundial.domain.restricted import operation_name

#: The agent ``sundial worker`` runs when ``--agent`` is not given.
DEMO_AGENT_REF: Final = "sundial.worker.agents:offline_demo_agent"
DEMO_MODEL: Final = "offline-demo"
DEMO_PROVIDER: Final = "sundial"


@dataclass(frozen=True)
class AgentRequest:
    """What one run asks of the agent."""

    query: str
    context: dict[str, Any] = field(default_factory=dict)
    #: The agent must not spend more than this; the workflow fails runs that do.
    max_budget_usd: float = 0.0
    #: Seconds the agent has; past them the run fails as ``AgentTimeout``.
    timeout_seconds: float = 0.0
    schedule_id: str = ""
    tenant_id: str = ""
    user_id: str = ""
    #: Restricted operations this run may perform: the worker's policy (never the task's own
    #: context). An agent with tools must call ``allows`` before every tool call.
    allowed_operations: tuple[str, ...] = ()

    def allows(self, operation: str) -> bool:
        """Whether a tool call for ``operation`` is permitted (unrestricted ones always are).

        The name is normalised as the refusal check does (``sendEmail``, ``SEND-EMAIL``).
        """
        restricted = operation_name(operation)
        return restricted is None or restricted in self.allowed_operations

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query, "context": self.context, "max_budget_usd": self.max_budget_usd,
            "timeout_seconds": self.timeout_seconds, "schedule_id": self.schedule_id,
            "tenant_id": self.tenant_id, "user_id": self.user_id,
            "allowed_operations": list(self.allowed_operations),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AgentRequest:
        return cls(
            query=str(data.get("query", "")),
            context=dict(data.get("context") or {}),
            max_budget_usd=float(data.get("max_budget_usd", 0.0)),
            timeout_seconds=float(data.get("timeout_seconds", 0.0)),
            schedule_id=str(data.get("schedule_id", "")),
            tenant_id=str(data.get("tenant_id", "")),
            user_id=str(data.get("user_id", "")),
            allowed_operations=tuple(str(op) for op in data.get("allowed_operations") or ()),
        )


@dataclass(frozen=True)
class AgentResult:
    """A finished agent task and what it cost."""

    result: Any
    model_used: str | None = None
    provider: str | None = None
    total_tokens: int = 0
    total_cost_usd: float = 0.0

    def to_task_result(self) -> TaskResult:
        return TaskResult(STATUS_COMPLETED, self.result, None, self.model_used, self.provider,
                          self.total_tokens, self.total_cost_usd)


class AgentFailure(Exception):
    """Raised by an agent that failed; the run fails and still accounts for what was spent.

    ``retryable=False`` tells Temporal not to retry the run even when the schedule's
    workflow retry policy would (e.g. the query itself is unanswerable).
    """

    def __init__(
        self, message: str, cost_usd: float = 0.0, tokens: int = 0, model: str | None = None,
        provider: str | None = None, *, retryable: bool = True,
    ):
        super().__init__(message)
        self.message = message
        self.cost_usd = cost_usd
        self.tokens = tokens
        self.model = model
        self.provider = provider
        self.retryable = retryable

    def to_task_result(self) -> TaskResult:
        return TaskResult(STATUS_FAILED, None, self.message, self.model, self.provider,
                          self.tokens, self.cost_usd)


AgentOutcome: TypeAlias = AgentResult | Mapping[str, Any]
#: An agent: ``(AgentRequest) -> AgentResult``, sync or async. A mapping with
#: ``TaskResult`` keys is accepted in place of an ``AgentResult``.
Agent: TypeAlias = Callable[[AgentRequest], AgentOutcome | Awaitable[AgentOutcome]]


class AgentLoadError(ValueError):
    """An ``--agent`` reference that does not name an importable callable."""


def load_agent(ref: str) -> Agent:
    """Import ``package.module:function``; raises ``AgentLoadError`` with the reason."""
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise AgentLoadError(f"agent {ref!r} must look like package.module:function")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise AgentLoadError(f"agent {ref!r}: cannot import {module_name}: {exc}") from exc
    target: Any = module
    for part in attr.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise AgentLoadError(f"agent {ref!r}: {module_name} has no attribute {attr}")
    if not callable(target):
        raise AgentLoadError(f"agent {ref!r} is not callable")
    agent: Agent = target
    return agent


def is_offline_demo(ref: str) -> bool:
    return ref == DEMO_AGENT_REF


async def offline_demo_agent(request: AgentRequest) -> AgentResult:
    """OFFLINE DEMO: calls no model. Echoes the query so the whole path can be tried for free."""
    return AgentResult(
        result=f"[offline demo, no model was called] {request.query}",
        model_used=DEMO_MODEL,
        provider=DEMO_PROVIDER,
        total_tokens=0,
        total_cost_usd=0.0,
    )
