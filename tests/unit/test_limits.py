"""Numbers, dates and durations out of range are refused naming the field and the limit (issue 10, item 9)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import ScheduleActionStartWorkflow

from sundial.adapters.temporal_mapping import build_schedule
from sundial.domain.desired import ScheduleIdentity
from sundial.domain.rules import Limits, validated_spec
from sundial.domain.translate import WorkflowDefaults, desired_from_spec
from sundial.errors import SpecInvalid

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BASE: dict[str, Any] = {"schedule": "0 9 * * *", "task": {"query": "q"}}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"timeoutSeconds": 10**15}, "spec.timeoutSeconds",
         "spec.timeoutSeconds: 1000000000000000 is above the maximum of 86400"),
        ({"timeoutSeconds": 1e12}, "spec.timeoutSeconds",
         "spec.timeoutSeconds: 1000000000000.0 is above the maximum of 86400"),
        ({"workflow": {"retry": {"maximumAttempts": 2**31}}}, "spec.workflow.retry.maximumAttempts",
         "spec.workflow.retry.maximumAttempts: 2147483648 is above the maximum of 100"),
        ({"startAt": "0001-01-01T00:00:00+14:00"}, "spec.startAt",
         "spec.startAt: 0001-01-01T00:00:00+14:00 is outside the years 1970 to 2100"),
        ({"endAt": "9999-12-31T23:59:59-14:00"}, "spec.endAt",
         "spec.endAt: 9999-12-31T23:59:59-14:00 is outside the years 1970 to 2100"),
        ({"jitter": "11000000000h"}, "spec.jitter",
         'spec.jitter: "11000000000h" is longer than the maximum of 168h'),
        ({"jitter": "12000000001h"}, "spec.jitter",
         'spec.jitter: "12000000001h" is longer than the maximum of 168h'),
        ({"policy": {"catchupWindow": "9000h"}}, "spec.policy.catchupWindow",
         'spec.policy.catchupWindow: "9000h" is longer than the maximum of 8760h'),
        ({"policy": {"catchupWindow": "0"}}, "spec.policy.catchupWindow",
         "spec.policy.catchupWindow: \"0\" is shorter than the minimum of 10s (Temporal's minimum; 0 would mean "
         "one year)"),
    ],
)
def test_out_of_range_values_are_refused_with_the_field_and_the_limit(change: dict[str, Any], field: str,
                                                                       message: str) -> None:
    with pytest.raises(SpecInvalid) as caught:
        validated_spec({**BASE, **change}, Limits(), NOW)
    assert (caught.value.reason, caught.value.field, caught.value.message) == ("InvalidSpec", field, message)


@pytest.mark.parametrize("change", [{"timeoutSeconds": 86400}, {"jitter": "168h", "schedule": "0 0 1 * *"},
                                    {"policy": {"catchupWindow": "8760h"}}, {"startAt": "1970-01-01T00:00:00Z"},
                                    {"endAt": "2100-12-31T23:59:59Z"}])
def test_the_limits_themselves_are_accepted(change: dict[str, Any]) -> None:
    validated_spec({**BASE, **change}, Limits(), NOW)


def deep(depth: int) -> Any:
    value: Any = "bottom"
    for level in range(depth):
        value = {"k": value} if level % 2 else [value]
    return value


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"task": {"query": "q", "context": {"n": deep(600)}}}, "spec.task.context",
         "spec.task.context: is nested more than 32 levels deep (objects and lists); the limit is 32"),
        ({"task": None, "workflow": {"args": [deep(5000)]}}, "spec.workflow.args",
         "spec.workflow.args: is nested more than 32 levels deep (objects and lists); the limit is 32"),
        ({"task": {"query": "q", "context": {"blob": "x" * 70_000}}}, "spec.task.context",
         "spec.task.context: is more than 65536 bytes as JSON; the limit is 65536"),
        ({"task": {"query": "q", "context": {f"k{n}": n for n in range(65)}}}, "spec.task.context",
         "spec.task.context: has 65 entries; the limit is 64"),
        ({"task": None, "workflow": {"args": list(range(17))}}, "spec.workflow.args",
         "spec.workflow.args: has 17 entries; the limit is 16"),
        ({"task": {"query": "q" * 20_000}}, "spec.task.query", "spec.task.query: 20000 characters; the limit is 16384"),
    ],
)
def test_free_form_values_are_bounded_in_depth_and_size(change: dict[str, Any], field: str, message: str) -> None:
    body = {key: value for key, value in {**BASE, **change}.items() if value is not None}
    with pytest.raises(SpecInvalid) as caught:
        validated_spec(body, Limits(), NOW)
    assert (caught.value.field, caught.value.message) == (field, message)


def test_a_deep_object_within_the_bound_is_accepted() -> None:
    validated_spec({**BASE, "task": {"query": "q", "context": {"n": deep(30)}}}, Limits(), NOW)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"schedule": "0 * * * *", "jitter": "59m"}, "spec.jitter",
         'spec.jitter: "0 * * * *" runs every 60 min, and a jitter of 59m can bring two runs 1 min apart; '
         "the minimum interval is 60 min (SCHEDULE_MIN_INTERVAL_MINS)"),
        ({"schedule": "0 */2 * * *", "jitter": "61m"}, "spec.jitter",
         'spec.jitter: "0 */2 * * *" runs every 2 h, and a jitter of 1h1m can bring two runs 59 min apart; '
         "the minimum interval is 60 min (SCHEDULE_MIN_INTERVAL_MINS)"),
        ({"endAt": "2026-06-01T11:59:59Z"}, "spec.endAt",
         "spec.endAt: 2026-06-01T11:59:59Z has already passed (now 2026-06-01T12:00:00Z): the schedule would never "
         "run"),
    ],
)
def test_jitter_counts_against_the_minimum_interval_and_an_ended_window_is_refused(
        change: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(SpecInvalid) as caught:
        validated_spec({**BASE, **change}, Limits(), NOW)
    assert (caught.value.field, caught.value.message) == (field, message)


def test_jitter_within_the_margin_and_a_window_that_ended_after_it_was_accepted_pass() -> None:
    validated_spec({**BASE, "schedule": "0 */2 * * *", "jitter": "60m"}, Limits(), NOW)
    validated_spec({**BASE, "endAt": "2026-06-01T11:59:59Z"}, Limits(), NOW, new=False)


@pytest.mark.parametrize(
    ("attempts", "limits", "message"),
    [
        (0, Limits(), "spec.workflow.retry.maximumAttempts: 0 is below the minimum of 1"),
        (6, Limits(), "spec.workflow.retry.maximumAttempts: 6 is above the operator's maximum of 5 "
                      "(SUNDIAL_MAX_RETRY_ATTEMPTS)"),
        (3, Limits(max_retry_attempts=2), "spec.workflow.retry.maximumAttempts: 3 is above the operator's maximum "
                                          "of 2 (SUNDIAL_MAX_RETRY_ATTEMPTS)"),
    ],
)
def test_retries_are_bounded(attempts: int, limits: Limits, message: str) -> None:
    with pytest.raises(SpecInvalid) as caught:
        validated_spec({**BASE, "workflow": {"retry": {"maximumAttempts": attempts}}}, limits, NOW)
    assert caught.value.message == message


def test_every_run_has_an_execution_timeout_covering_all_its_attempts() -> None:
    spec = validated_spec({**BASE, "timeoutSeconds": 600, "workflow": {"retry": {"maximumAttempts": 5}}}, Limits(),
                          NOW)
    desired = desired_from_spec(spec, ScheduleIdentity("c", "ns", "n", "u"), WorkflowDefaults(), "", None)
    assert desired.execution_timeout == timedelta(seconds=5 * 600 + 4 * 100)
    action = build_schedule(desired).action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert action.execution_timeout == desired.execution_timeout
