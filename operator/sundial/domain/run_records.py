"""One run of a schedule: as visibility lists it, what its close event said, and its wire form.

Pure. ``RunInfo`` comes from a visibility listing, ``RunOutcome`` from the run's close event
(``adapters.temporal_history`` parses it), ``ClosedRun`` joins them, and ``run_record`` is
the JSON shape of ``status.recentRuns[]`` and ``sundial runs -o json`` (which adds
``run_io``: the query and the result, too large for the status).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sundial.domain.contract import TaskResult
from sundial.domain.messages import MESSAGE_LIMIT, bounded
from sundial.domain.status import rfc3339
from sundial.domain.status_dicts import RunRecordDict

COMPLETED: Final = "COMPLETED"
RUNNING: Final = "RUNNING"
#: Closed statuses, as Temporal names them.
CLOSED_STATUSES: Final = ("COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED", "CANCELED", "CONTINUED_AS_NEW")


@dataclass(frozen=True)
class RunOutcome:
    """What a close event says about a run."""

    #: ``COMPLETED`` | ``FAILED`` | ``TIMED_OUT`` | ``CANCELED`` | ``TERMINATED`` | ``CONTINUED_AS_NEW``
    status: str
    #: The run's result, or its failure's first detail; ``None`` when no cost was reported.
    task_result: TaskResult | None
    #: ``ApplicationError.type`` of a failed run (a ``contract.FailureType``), else ``None``.
    failure_type: str | None = None
    #: The failure's message (for failed runs), else ``None``.
    error: str | None = None
    #: A failed run that the workflow retry policy tries again in this new run.
    retried_in_run_id: str | None = None
    #: What a completed run returned: ``TaskResult.result``, or the whole result of another workflow.
    result: Any = None


@dataclass(frozen=True)
class RunInfo:
    """One workflow execution as visibility lists it (no outcome: that needs its close event)."""

    schedule_id: str  # the TemporalScheduledById search attribute
    workflow_id: str
    run_id: str
    status: str  # RUNNING or one of CLOSED_STATUSES
    started_at: datetime
    closed_at: datetime | None = None
    scheduled_time: datetime | None = None  # TemporalScheduledStartTime
    workflow_type: str = ""


@dataclass(frozen=True)
class ClosedRun:
    """A closed run with what its close event said about it."""

    info: RunInfo
    status: str
    final: bool = True  # False: a retried attempt or a continue-as-new; cost only
    cost_usd: float | None = None  # None: the run reported no cost
    total_tokens: int | None = None
    model: str | None = None
    provider: str | None = None
    error: str | None = None
    result: Any = None  # what a completed run returned (not kept in the status)

    @property
    def closed_at(self) -> datetime:
        assert self.info.closed_at is not None
        return self.info.closed_at

    @property
    def succeeded(self) -> bool:
        return self.status == COMPLETED


def closed_run(info: RunInfo, outcome: RunOutcome | None) -> ClosedRun:
    """Join a listed run with its outcome (``None``: history gone, e.g. retention; cost unknown)."""
    if outcome is None:
        return ClosedRun(info, info.status, final=info.status != "CONTINUED_AS_NEW")
    result = outcome.task_result
    final = outcome.retried_in_run_id is None and outcome.status != "CONTINUED_AS_NEW"
    error = None
    if outcome.status != COMPLETED:
        error = outcome.error or (result.error_message if result else None)
    return ClosedRun(
        info, outcome.status, final=final,
        cost_usd=result.total_cost_usd if result else None,
        total_tokens=result.total_tokens if result else None,
        model=result.model_used if result else None,
        provider=result.provider if result else None,
        error=error, result=outcome.result,
    )


def run_record(run: ClosedRun | RunInfo) -> RunRecordDict:
    """The wire form of a run (``status.recentRuns[]`` and ``sundial runs -o json``)."""
    info = run.info if isinstance(run, ClosedRun) else run
    duration = None
    if info.closed_at is not None:
        duration = max(0, int((info.closed_at - info.started_at).total_seconds() * 1000))
    detail = run if isinstance(run, ClosedRun) else None
    return {
        "workflowId": info.workflow_id, "runId": info.run_id,
        "status": detail.status if detail else info.status,
        "scheduledTime": rfc3339_or_none(info.scheduled_time), "startedAt": rfc3339_or_none(info.started_at),
        "closedAt": rfc3339_or_none(info.closed_at), "durationMs": duration,
        "costUSD": detail.cost_usd if detail else None,
        "totalTokens": detail.total_tokens if detail else None,
        "model": _text(detail.model if detail else None, 255),
        "provider": _text(detail.provider if detail else None, 255),
        "error": _text(detail.error if detail else None, MESSAGE_LIMIT),
    }


def run_io(task_input: Any, result: Any, limit: int) -> dict[str, Any]:
    """What a run was asked and what came back, for ``sundial runs`` (not kept in the status).

    ``query`` is the input's ``task_query`` (``None`` for an input that is not a ``TaskInput``).
    ``result`` is text: a string as is, anything else as compact JSON, cut to ``limit``
    characters (an agent's digest can be megabytes); ``resultChars`` is its full length, so
    a reader sees what was left out. Both are ``None`` when unknown (open, failed, or history gone).
    """
    query = task_input.get("task_query") if isinstance(task_input, Mapping) else None
    text = None
    if result is not None:
        text = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False, sort_keys=True)
    return {
        "query": query if isinstance(query, str) else None,
        "result": text[:limit] if text is not None else None,
        "resultChars": len(text) if text is not None else None,
    }


def _text(value: str | None, limit: int) -> str | None:
    """What a worker reported, printable and bounded: a status must never approach etcd's size limit."""
    return bounded(value, limit, one_line=True) if value is not None else None


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 string (``Z`` or offset) as an aware datetime; ``None`` for nothing."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def rfc3339_or_none(moment: datetime | None) -> str | None:
    return rfc3339(moment) if moment is not None else None
