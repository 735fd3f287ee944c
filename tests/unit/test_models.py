"""The Schedule models: camelCase names on the wire, defaults, structural limits, durations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from sundial.domain import models, status_models
from sundial.domain.durations import InvalidDuration, parse_duration
from sundial.domain.models import ScheduleSpec, TaskSpec
from sundial.domain.rules import Limits, validated_spec
from sundial.domain.status_models import ScheduleStatus
from sundial.errors import SpecInvalid

SPEC_EXAMPLE: dict[str, Any] = {
    "displayName": "日次サマリー",
    "description": "Daily AI industry digest",
    "schedule": "0 9 * * *",
    "timeZone": "Asia/Tokyo",
    "startAt": None,
    "endAt": None,
    "jitter": None,
    "paused": False,
    "pauseReason": "",
    "task": {
        "query": "Generate a daily news digest about AI",
        "context": {"output_format": "markdown", "max_sources": 10},
    },
    "workflow": {
        "type": "ScheduledTaskWorkflow",
        "taskQueue": "sundial-tasks",
        "args": [],
        "retry": {"maximumAttempts": 1},
    },
    "maxBudgetPerRunUSD": 2.0,
    "timeoutSeconds": 600,
    "policy": {
        "overlap": "Skip",
        "catchupWindow": "1h",
        "maxConsecutiveFailures": 3,
        "maxTotalBudgetUSD": None,
    },
    "history": {"successfulRunsLimit": 3, "failedRunsLimit": 3},
}

STATUS_EXAMPLE: dict[str, Any] = {
    "observedGeneration": 4,
    "phase": "Active",
    "conditions": [
        {"type": "Ready", "status": "True", "reason": "Synced"},
        {"type": "Paused", "status": "False", "reason": "Active"},
        {"type": "Reconciling", "status": "False"},
    ],
    "temporal": {
        "namespace": "default",
        "scheduleId": "sundial-abc.team-a.daily",
        "workflowType": "ScheduledTaskWorkflow",
        "taskQueue": "sundial-tasks",
    },
    "nextRunTime": "2026-12-16T00:00:00Z",
    "nextRunTimeLocal": "2026-12-16 09:00 JST",
    "runs": {"total": 45, "succeeded": 43, "failed": 2, "running": 0, "consecutiveFailures": 0},
    "cost": {"totalUSD": 20.25, "lastRunUSD": 0.45},
    "recentRuns": [
        {
            "workflowId": "w-2026-12-15T00:00:00Z",
            "runId": "r1",
            "status": "COMPLETED",
            "scheduledTime": "2026-12-15T00:00:00Z",
            "durationMs": 150000,
            "costUSD": 0.45,
            "totalTokens": 12500,
            "model": "gpt-4o",
            "provider": "openai",
            "error": None,
        }
    ],
    "accounting": {"closedThrough": "2026-12-15T00:02:30Z", "countedIds": ["r1"]},
    "kopf": {"progress": {}},
}


def test_the_spec_example_parses_with_python_names() -> None:
    spec = ScheduleSpec.from_body(SPEC_EXAMPLE)
    assert spec.display_name == "日次サマリー"
    assert spec.time_zone == "Asia/Tokyo"
    assert spec.max_budget_per_run_usd == 2.0
    assert spec.task is not None and spec.task.context["max_sources"] == 10
    assert spec.workflow.task_queue == "sundial-tasks"
    assert spec.policy.max_total_budget_usd is None


def test_the_wire_form_uses_specs_camel_case_names() -> None:
    body = ScheduleSpec.from_body(SPEC_EXAMPLE).to_body()
    assert {"maxBudgetPerRunUSD", "timeZone", "pauseReason", "timeoutSeconds"} <= body.keys()
    assert body["workflow"]["taskQueue"] == "sundial-tasks"
    assert body["workflow"]["retry"] == {"maximumAttempts": 1}
    assert "startAt" not in body  # unset optional fields stay out
    assert ScheduleSpec.from_body(body) == ScheduleSpec.from_body(SPEC_EXAMPLE)


def test_defaults_are_specs_defaults() -> None:
    spec = ScheduleSpec.from_body({"schedule": "@daily", "task": {"query": "q"}})
    assert (spec.time_zone, spec.paused, spec.pause_reason) == ("UTC", False, "")
    assert (spec.max_budget_per_run_usd, spec.timeout_seconds) == (10.0, 600)
    assert (spec.policy.overlap, spec.policy.catchup_window, spec.policy.max_consecutive_failures) == (
        "Skip",
        "1h",
        3,
    )
    assert (spec.history.successful_runs_limit, spec.history.failed_runs_limit) == (3, 3)
    assert spec.workflow.type is None and spec.workflow.task_queue is None and spec.workflow.args is None
    assert spec.workflow.retry.maximum_attempts == 1


def test_python_names_are_accepted_too() -> None:
    spec = ScheduleSpec(schedule="@daily", time_zone="Europe/Paris", task=TaskSpec(query="q"))
    assert spec.to_body()["timeZone"] == "Europe/Paris"


def test_models_are_frozen() -> None:
    spec = ScheduleSpec.from_body({"schedule": "@daily"})
    with pytest.raises(ValidationError):
        spec.schedule = "@hourly"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"displayName": "x" * 256},
            "spec.displayName",
            "spec.displayName: 256 characters; the limit is 255",
        ),
        ({"displayName": "日" * 256}, "spec.displayName", "256 characters; the limit is 255"),
        ({"scheduel": "0 9 * * *"}, "spec.scheduel", "is not a known field"),
        ({"maxBudgetPerRunUSD": -1}, "spec.maxBudgetPerRunUSD", "-1 is below the minimum of 0"),
        ({"timeoutSeconds": 0}, "spec.timeoutSeconds", "0 is below the minimum of 1"),
        ({"policy": {"overlap": "Never"}}, "spec.policy.overlap", '"Never" is not one of'),
        ({"history": {"failedRunsLimit": 101}}, "spec.history.failedRunsLimit", "above the maximum of 100"),
        ({"startAt": "2026-01-01T00:00:00"}, "spec.startAt", "spec.startAt:"),  # no offset: not RFC 3339
        ({"task": {"context": {}}}, "spec.task.query", "spec.task.query: is required"),
    ],
)
def test_a_malformed_spec_is_refused_as_invalid_spec_naming_the_field(
    change: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(SpecInvalid) as caught:
        ScheduleSpec.from_body({**SPEC_EXAMPLE, **change})
    assert (caught.value.reason, caught.value.field) == ("InvalidSpec", field)
    assert message in caught.value.message


def test_a_255_character_japanese_display_name_is_fine() -> None:
    assert ScheduleSpec.from_body({**SPEC_EXAMPLE, "displayName": "日" * 255}).display_name == "日" * 255


def test_a_missing_spec_is_refused() -> None:  # the schema parses it; the rules want a schedule
    with pytest.raises(SpecInvalid, match=r"spec\.schedule: exactly one of spec.schedule and spec.schedules"):
        validated_spec(None, Limits(), datetime(2026, 6, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("90s", timedelta(seconds=90)),
        ("500ms", timedelta(milliseconds=500)),
        ("1.5h", timedelta(minutes=90)),
        ("2m30s", timedelta(minutes=2, seconds=30)),
        ("0", timedelta(0)),
    ],
)
def test_parse_duration_reads_go_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "1x", "-1h", "1h 30m", "90", "h", "1.h", "1e3s", "٣s", "5 minutes"])
def test_parse_duration_refuses_anything_else(text: str) -> None:
    with pytest.raises(InvalidDuration, match="not a duration"):
        parse_duration(text)


def test_the_status_example_parses() -> None:
    status = ScheduleStatus.from_body(STATUS_EXAMPLE)
    assert status.phase == "Active" and status.runs.total == 45 and status.cost.total_usd == 20.25
    assert status.recent_runs[0].cost_usd == 0.45
    assert status.accounting is not None and status.accounting.counted_ids == ("r1",)
    assert status.next_run_time == datetime(2026, 12, 16, tzinfo=UTC)


def test_a_partial_or_missing_status_parses_with_zero_counters() -> None:
    assert ScheduleStatus.from_body(None).runs.total == 0
    assert ScheduleStatus.from_body({"phase": "Pending"}).conditions == ()


def test_status_wire_form_round_trips() -> None:
    body = ScheduleStatus.from_body(STATUS_EXAMPLE).to_body()
    assert body["cost"] == {"totalUSD": 20.25, "lastRunUSD": 0.45}
    assert body["nextRunTime"] == "2026-12-16T00:00:00Z"
    assert ScheduleStatus.from_body(body) == ScheduleStatus.from_body(STATUS_EXAMPLE)


def test_an_unknown_status_field_is_refused() -> None:
    with pytest.raises(SpecInvalid, match=r"status\.phaze"):
        ScheduleStatus.from_body({"phaze": "Active"})


def _all_models() -> list[type[BaseModel]]:
    return [
        value
        for module in (models, status_models)
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == module.__name__
    ]


@pytest.mark.parametrize("model", _all_models(), ids=lambda model: model.__name__)
def test_every_field_has_a_description_for_kubectl_explain(model: type[BaseModel]) -> None:
    for name, field in model.model_fields.items():
        assert field.description and len(field.description) > 10, f"{model.__name__}.{name}"
