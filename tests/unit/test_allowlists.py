"""A tenant starts only allowed workflow types on allowed task queues (issue 10, item 3)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from sundial.controller.context import OperatorContext
from sundial.domain.rules import Limits, validated_spec
from sundial.errors import SettingsError, SpecInvalid
from sundial.settings import load_settings

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BASE: dict[str, Any] = {"schedule": "0 9 * * *", "task": {"query": "q"}}


def limits_from(env: dict[str, str]) -> Limits:
    """The limits the operator enforces for these settings (the real OperatorContext.limits)."""
    ctx = OperatorContext(settings=load_settings(env), temporal=None, kube=None,  # type: ignore[arg-type]
                          cluster_id="c", logger=None)  # type: ignore[arg-type]
    return ctx.limits


def refusal(workflow: dict[str, Any], env: dict[str, str] | None = None) -> SpecInvalid:
    with pytest.raises(SpecInvalid) as caught:
        validated_spec({**BASE, "workflow": workflow}, limits_from(env or {}), NOW)
    return caught.value


def test_by_default_only_the_default_type_and_queue_are_allowed() -> None:
    problem = refusal({"type": "OtherTeamWorkflow"})
    assert (problem.reason, problem.field, problem.message) == (
        "WorkflowTypeNotAllowed", "spec.workflow.type",
        'spec.workflow.type: "OtherTeamWorkflow" is not allowed; allowed: ScheduledTaskWorkflow '
        "(SUNDIAL_ALLOWED_WORKFLOW_TYPES)")
    problem = refusal({"taskQueue": "team-b-queue"})
    assert (problem.reason, problem.field, problem.message) == (
        "TaskQueueNotAllowed", "spec.workflow.taskQueue",
        'spec.workflow.taskQueue: "team-b-queue" is not allowed; allowed: sundial-tasks '
        "(SUNDIAL_ALLOWED_TASK_QUEUES)")
    validated_spec({**BASE, "workflow": {"type": "ScheduledTaskWorkflow", "taskQueue": "sundial-tasks"}},
                   limits_from({}), NOW)


def test_the_default_follows_the_default_settings() -> None:
    env = {"SUNDIAL_DEFAULT_TASK_QUEUE": "agents"}
    validated_spec({**BASE, "workflow": {"taskQueue": "agents"}}, limits_from(env), NOW)
    assert refusal({"taskQueue": "sundial-tasks"}, env).reason == "TaskQueueNotAllowed"


def test_lists_and_star_allow_more() -> None:
    env = {"SUNDIAL_ALLOWED_WORKFLOW_TYPES": "ScheduledTaskWorkflow, ReportWorkflow",
           "SUNDIAL_ALLOWED_TASK_QUEUES": "*"}
    validated_spec({**BASE, "workflow": {"type": "ReportWorkflow", "taskQueue": "anything"}}, limits_from(env), NOW)
    assert "allowed: ScheduledTaskWorkflow, ReportWorkflow" in refusal({"type": "Evil"}, env).message


def test_a_star_among_names_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="SUNDIAL_ALLOWED_TASK_QUEUES"):
        load_settings({"SUNDIAL_ALLOWED_TASK_QUEUES": "a,*"})
