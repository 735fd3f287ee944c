"""A Temporal schedule that Sundial does not manage, read as plain values for ``sundial import``.

Pure mapping from the SDK's ``ScheduleDescription`` to ``sundial.domain.adoption.ForeignSchedule``;
the gateway (``TemporalGateway.describe_foreign``) does the call.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.client import ScheduleActionStartWorkflow, ScheduleCalendarSpec, ScheduleDescription
from temporalio.converter import PayloadConverter

from sundial.domain.adoption import ForeignSchedule, Range

_FIELDS = ("second", "minute", "hour", "day_of_month", "month", "year", "day_of_week")
_OVERLAP = {"SKIP": "Skip", "BUFFER_ONE": "BufferOne", "BUFFER_ALL": "BufferAll", "CANCEL_OTHER": "CancelOther",
            "TERMINATE_OTHER": "TerminateOther", "ALLOW_ALL": "AllowAll"}


def _calendar(calendar: ScheduleCalendarSpec) -> dict[str, tuple[Range, ...]]:
    return {name: tuple((r.start, r.end, r.step) for r in getattr(calendar, name)) for name in _FIELDS}


def _args(raw: list[Any], converter: PayloadConverter) -> tuple[Any, ...] | None:
    """JSON arguments; None when they are in an encoding Sundial cannot carry in a spec."""
    payloads = [a for a in raw if isinstance(a, Payload)]
    if len(payloads) != len(raw):
        return tuple(raw)  # already plain values
    try:
        values = tuple(converter.from_payloads(payloads))
        json.dumps(values)
    except Exception:  # someone else's converter or codec: refuse rather than guess
        return None
    return values


def _extras(action: ScheduleActionStartWorkflow) -> tuple[str, ...]:
    """Action settings a Schedule spec has no field for."""
    extras = []
    if action.memo:
        extras.append("a workflow memo")
    if action.typed_search_attributes.search_attributes or action.untyped_search_attributes:
        extras.append("search attributes")
    if action.execution_timeout:
        extras.append(f"an execution timeout ({action.execution_timeout})")
    if action.headers:
        extras.append("headers")
    return tuple(extras)


def foreign_from_description(schedule_id: str, description: ScheduleDescription, memo: dict[str, str],
                             converter: PayloadConverter) -> ForeignSchedule:
    schedule = description.schedule
    spec, action, policy, state = schedule.spec, schedule.action, schedule.policy, schedule.state
    common: dict[str, Any] = dict(
        schedule_id=schedule_id, memo=memo, calendars=tuple(_calendar(c) for c in spec.calendars),
        intervals=tuple((i.every, i.offset or timedelta(0)) for i in spec.intervals), skips=len(spec.skip),
        cron_expressions=tuple(spec.cron_expressions),
        overlap=_OVERLAP.get(policy.overlap.name, policy.overlap.name), catchup_window=policy.catchup_window,
        pause_on_failure=policy.pause_on_failure, time_zone=spec.time_zone_name or "", start_at=spec.start_at,
        end_at=spec.end_at, jitter=spec.jitter or None, paused=state.paused, note=state.note or "",
        next_action_times=tuple(description.info.next_action_times))
    if not isinstance(action, ScheduleActionStartWorkflow):
        return ForeignSchedule(action_kind=type(action).__name__, **common)
    retry = action.retry_policy
    retry_other = retry is not None and (retry.non_retryable_error_types or retry.maximum_interval is not None
                                         or retry.backoff_coefficient != 2.0)
    return ForeignSchedule(
        workflow_type=action.workflow, task_queue=action.task_queue,
        args=_args(list(action.args), converter), run_timeout=action.run_timeout or None,
        retry_maximum_attempts=retry.maximum_attempts if retry is not None else None,
        retry_other=bool(retry_other), extras=_extras(action), **common)
