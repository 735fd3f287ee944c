"""The rolling full check against the real stack: edits only a describe shows (the workflow's input,
task queue, run timeout, overlap policy), made with the Temporal SDK, are put back with one
DriftRepaired Event within one SUNDIAL_FULL_CHECK_SECONDS period (short here)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    ScheduleActionStartWorkflow,
    ScheduleDescription,
    ScheduleOverlapPolicy,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from tests.e2e.helpers import Kube, Replacements, ready
from tests.e2e.test_drift_repair import warnings
from tests.e2e.test_schedule_lifecycle import EXAMPLE_SPEC, describe, start_action, workflow_input
from tests.support.waiting import eventually, eventually_async

FULL_CHECK = 20.0
REPAIR_WITHIN = FULL_CHECK + 15.0  # one full-check period plus the reconcile, on 2 busy cores


def edit_input(description: ScheduleDescription) -> None:
    action = start_action(description)
    action.args = [{"task_query": "something else", "max_budget_per_run_usd": 9.0}]


def edit_task_queue(description: ScheduleDescription) -> None:
    start_action(description).task_queue = "someone-elses-queue"


def edit_run_timeout(description: ScheduleDescription) -> None:
    start_action(description).run_timeout = timedelta(seconds=5)


def edit_overlap(description: ScheduleDescription) -> None:
    description.schedule.policy.overlap = ScheduleOverlapPolicy.ALLOW_ALL


EDITS: list[tuple[str, Callable[[ScheduleDescription], None]]] = [
    ("input", edit_input), ("task queue", edit_task_queue), ("run timeout", edit_run_timeout),
    ("overlap", edit_overlap),
]


def repairs_are(kube: Kube, namespace: str, count: int) -> bool:
    return len(warnings(kube, namespace, "checked", "DriftRepaired")) == count


async def as_the_spec_says(client: Client, sid: str) -> bool:
    description = await describe(client, sid)
    action = start_action(description)
    task = await workflow_input(client, description)
    return (task["max_budget_per_run_usd"] == 2.0 and task["task_query"] == EXAMPLE_SPEC["task"]["query"]
            and action.task_queue == "sundial-tasks" and action.run_timeout == timedelta(seconds=600)
            and description.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP)


async def test_edits_only_a_describe_shows_are_put_back_within_one_full_check_period(
    replace_operator: Replacements, kube: Kube, temporal_client: Client,
) -> None:
    replace_operator("full-check", SUNDIAL_FULL_CHECK_SECONDS=str(FULL_CHECK))  # a short period for the test
    ns = kube.new_namespace()
    kube.create(ns, "checked", EXAMPLE_SPEC)
    body: dict[str, Any] = eventually("Ready", lambda: ready(kube, ns, "checked"), timeout=30)
    sid = body["status"]["temporal"]["scheduleId"]
    assert await as_the_spec_says(temporal_client, sid)
    for repaired, (what, edit) in enumerate(EDITS, start=1):
        def out_of_band(current: ScheduleUpdateInput, edit: Callable[[ScheduleDescription], None] = edit
                        ) -> ScheduleUpdate:
            edit(current.description)
            return ScheduleUpdate(schedule=current.description.schedule)

        await temporal_client.get_schedule_handle(sid).update(out_of_band)
        assert not await as_the_spec_says(temporal_client, sid), what
        edited = time.monotonic()
        await eventually_async(f"{what} put back", lambda: as_the_spec_says(temporal_client, sid),
                               timeout=REPAIR_WITHIN)
        assert time.monotonic() - edited < REPAIR_WITHIN, what
        eventually(f"a DriftRepaired Event for the {what}",
                   functools.partial(repairs_are, kube, ns, repaired), timeout=10)
    assert isinstance((await describe(temporal_client, sid)).schedule.action, ScheduleActionStartWorkflow)
