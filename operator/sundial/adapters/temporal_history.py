"""Read a closed run's outcome (cost, tokens, model, error) from its close event.

Run accounting sees runs through visibility and history, not through
``handle.result()``: this turns the one event that closes a workflow into a
``RunOutcome``. Fetch only that event, it is cheap::

    events = [e async for e in handle.fetch_history_events(
        event_filter_type=WorkflowHistoryEventFilterType.CLOSE_EVENT)]
    outcome = outcome_from_close_event(events[-1])

``input_from_start_event`` reads the workflow's input from its first event (what
``sundial runs`` shows as ``query``); the completed close event also gives the result.

Works for any workflow type: a run that is not ``ScheduledTaskWorkflow`` (or that
reports no ``TaskResult``) gets ``task_result=None``, i.e. cost unknown.

Retried runs: when the workflow retry policy (``spec.workflow.retry``) tries a failed
run again, Temporal closes the failed attempt with a *ContinuedAsNew* event whose
``workflow_execution_continued_as_new_event_attributes.failure`` holds the failure (its
``initiator`` should say ``RETRY`` but the dev server leaves it unspecified),
and visibility lists it as ``ContinuedAsNew``, not ``Failed``. It still ran and spent
money: this module reports it as ``FAILED`` (or ``TIMED_OUT``) with ``retried_in_run_id``
set, so accounting counts every attempt's cost once and the last attempt's outcome.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from temporalio.api.common.v1 import Payloads
from temporalio.api.enums.v1 import ContinueAsNewInitiator, EventType
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.converter import DataConverter, PayloadConverter

from sundial.domain.contract import TaskResult, parse_task_result
from sundial.domain.run_records import RunOutcome

#: How a run closed, by close event type.
CLOSE_STATUS: Final = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: "COMPLETED",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: "FAILED",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: "TIMED_OUT",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: "CANCELED",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: "TERMINATED",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: "CONTINUED_AS_NEW",
}


_RETRY: Final = ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_RETRY


def outcome_from_close_event(
    event: HistoryEvent, converter: PayloadConverter | None = None
) -> RunOutcome | None:
    """The outcome of a run from its close event; ``None`` for an event that closes nothing."""
    status = CLOSE_STATUS.get(event.event_type)
    if status is None:
        return None
    payload_converter = converter or DataConverter.default.payload_converter
    if event.HasField("workflow_execution_completed_event_attributes"):
        payloads = event.workflow_execution_completed_event_attributes.result
        result = _decode(payloads, payload_converter)
        value = result.result if result is not None else first_value(payloads, payload_converter)
        return RunOutcome(status, result, result=value)
    if event.HasField("workflow_execution_failed_event_attributes"):
        failed = event.workflow_execution_failed_event_attributes
        return _failed(status, failed.failure, failed.new_execution_run_id, payload_converter)
    if event.HasField("workflow_execution_continued_as_new_event_attributes"):
        continued = event.workflow_execution_continued_as_new_event_attributes
        # dev server 1.32 leaves ``initiator`` unspecified on retries: a failure is the sign
        if continued.HasField("failure") or continued.initiator == _RETRY:
            timed_out = continued.failure.HasField("timeout_failure_info")
            return _failed("TIMED_OUT" if timed_out else "FAILED", continued.failure,
                           continued.new_execution_run_id, payload_converter)
        return RunOutcome(status, None)
    if event.HasField("workflow_execution_timed_out_event_attributes"):
        new_run = event.workflow_execution_timed_out_event_attributes.new_execution_run_id
        return RunOutcome(status, None, error="the run timed out", retried_in_run_id=new_run or None)
    return RunOutcome(status, None)


def _failed(status: str, failure: Failure, new_run_id: str, converter: PayloadConverter) -> RunOutcome:
    application = next((f for f in _failure_chain(failure) if f.HasField("application_failure_info")), None)
    details = None
    if application is not None:
        details = _decode(application.application_failure_info.details, converter)
    return RunOutcome(
        status,
        details,
        failure_type=(application.application_failure_info.type or None) if application else None,
        error=failure.message or None,
        retried_in_run_id=new_run_id or None,
    )


def _failure_chain(failure: Failure) -> Iterator[Failure]:
    """The failure, then its causes; an ``ApplicationError`` may sit under an ``ActivityError``."""
    current: Failure | None = failure
    depth = 0
    while current is not None and depth < 16:
        yield current
        current = current.cause if current.HasField("cause") else None
        depth += 1


def input_from_start_event(event: HistoryEvent, converter: PayloadConverter | None = None) -> Any:
    """The workflow's first argument from its first (started) event; ``None`` when unreadable."""
    if not event.HasField("workflow_execution_started_event_attributes"):
        return None
    return first_value(event.workflow_execution_started_event_attributes.input,
                       converter or DataConverter.default.payload_converter)


def first_value(payloads: Payloads, converter: PayloadConverter) -> Any:
    """The first payload decoded (JSON as Python); ``None`` when there is none or it is not readable."""
    if not payloads.payloads:
        return None
    try:
        return converter.from_payloads(payloads.payloads[:1])[0]
    except Exception:  # another workflow's binary or encrypted payload: unknown
        return None


def _decode(payloads: Payloads, converter: PayloadConverter) -> TaskResult | None:
    """The first payload as a ``TaskResult``; ``None`` when it is not one (or not JSON)."""
    if not payloads.payloads:
        return None
    try:
        values = converter.from_payloads(payloads.payloads[:1])
    except Exception:  # another workflow's binary or encrypted result: cost unknown
        return None
    return parse_task_result(values)
