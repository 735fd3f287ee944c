"""Identity and budget in a run's input come from the operator, never from the spec (issue 10, item 2)."""

from __future__ import annotations

from typing import Any

import pytest

from sundial.domain.contract import TaskInput
from sundial.domain.desired import ScheduleIdentity
from sundial.domain.models import ScheduleSpec
from sundial.domain.translate import WorkflowDefaults, desired_from_spec

OPERATOR_KEYS = ("schedule_id", "tenant_id", "user_id", "max_budget_per_run_usd")
IDENTITY = ScheduleIdentity("cluster-1", "team-a", "digest", "uid-1")
FORGED: dict[str, Any] = {"schedule_id": "sundial.x.team-b.other", "tenant_id": "team-b", "user_id": "admin",
                          "max_budget_per_run_usd": 1e9, "task_query": "q", "task_context": {"max_budget_usd": 1e9}}
OURS = {"schedule_id": IDENTITY.schedule_id, "tenant_id": "team-a", "user_id": "alice",
        "max_budget_per_run_usd": 2.0}


def run_args(spec: dict[str, Any]) -> tuple[Any, ...]:
    parsed = ScheduleSpec.from_body({"schedule": "0 9 * * *", "maxBudgetPerRunUSD": 2.0, **spec})
    return desired_from_spec(parsed, IDENTITY, WorkflowDefaults(), "alice", None).args


def test_with_workflow_args_the_first_argument_is_sundials_envelope_and_the_users_follow() -> None:
    args = run_args({"workflow": {"type": "CustomWorkflow", "args": [FORGED, "second"]}})
    assert args == (OURS, FORGED, "second")


def test_with_no_args_a_custom_workflow_still_gets_the_envelope() -> None:
    assert run_args({"workflow": {"type": "CustomWorkflow", "args": []}}) == (OURS,)


def test_with_a_task_the_identity_and_budget_are_the_operators_whatever_the_context_says() -> None:
    [argument] = run_args({"task": {"query": "q", "context": FORGED}})
    assert {key: argument[key] for key in OPERATOR_KEYS} == OURS
    assert argument["task_context"]["max_budget_usd"] == 2.0


def test_the_worker_reads_identity_and_budget_only_from_the_operators_keys() -> None:
    [argument] = run_args({"task": {"query": "q", "context": FORGED}})
    task = TaskInput.from_dict(argument)
    assert (task.schedule_id, task.tenant_id, task.user_id, task.max_budget_per_run_usd) == (
        IDENTITY.schedule_id, "team-a", "alice", 2.0)


@pytest.mark.parametrize("missing", OPERATOR_KEYS)
def test_the_worker_refuses_an_input_the_operator_did_not_write(missing: str) -> None:
    argument = {"task_query": "q", "task_context": {**OURS}, **{k: v for k, v in OURS.items() if k != missing}}
    with pytest.raises(ValueError, match=missing):
        TaskInput.from_dict(argument)


def test_the_worker_refuses_a_custom_workflows_envelope_as_a_task() -> None:
    envelope = run_args({"workflow": {"args": []}})[0]
    with pytest.raises(ValueError, match="task_query"):
        TaskInput.from_dict(envelope)
