"""A Schedule's life against the real stack: create, edit, pause, delete, crash safety, kubectl views."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from typing import Any

from temporalio.client import Client, ScheduleActionStartWorkflow, ScheduleDescription
from tests.e2e.helpers import Kube, condition, create_ready, ready
from tests.support.waiting import eventually

from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.operator_process import OperatorProcess
from sundial.domain.desired import ScheduleIdentity

EXAMPLE_SPEC: dict[str, Any] = {
    "displayName": "日次サマリー",
    "description": "Daily AI industry digest",
    "schedule": "0 9 * * *",
    "timeZone": "Asia/Tokyo",
    "task": {"query": "Generate a daily news digest about AI",
             "context": {"output_format": "markdown", "max_sources": 10}},
    "maxBudgetPerRunUSD": 2.0,
    "timeoutSeconds": 600,
    "policy": {"overlap": "Skip", "maxConsecutiveFailures": 3},
}


def cluster_id(kube: Kube) -> str:
    meta = kube.core.read_namespace("kube-system").metadata
    assert meta is not None and meta.uid
    return str(meta.uid)


def schedule_id(kube: Kube, namespace: str, name: str, uid: str = "") -> str:
    return ScheduleIdentity(cluster_id(kube), namespace, name, uid).schedule_id


async def describe(temporal_client: Client, sid: str) -> ScheduleDescription:
    return await temporal_client.get_schedule_handle(sid).describe()


async def schedule_exists(temporal_client: Client, sid: str) -> bool:
    return sid in [entry.id async for entry in await temporal_client.list_schedules()]


def start_action(description: ScheduleDescription) -> ScheduleActionStartWorkflow:
    action = description.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    return action


async def workflow_input(temporal_client: Client, description: ScheduleDescription) -> dict[str, Any]:
    args = start_action(description).args
    decoded = temporal_client.data_converter.payload_converter.from_payloads(list(args))
    assert len(decoded) == 1
    value: dict[str, Any] = decoded[0]
    return value


async def test_example_schedule_becomes_ready_and_matches_temporal(
    operator: OperatorProcess, kube: Kube, temporal_client: Client
) -> None:
    ns = kube.new_namespace()
    body = create_ready(kube, ns, "daily-ai-news", EXAMPLE_SPEC, timeout=10)
    status = body["status"]
    sid = status["temporal"]["scheduleId"]
    assert sid == schedule_id(kube, ns, "daily-ai-news")

    description = await describe(temporal_client, sid)
    calendar = description.schedule.spec.calendars[0]
    assert [r.start for r in calendar.hour] == [9] and [r.start for r in calendar.minute] == [0]
    assert description.schedule.spec.time_zone_name == "Asia/Tokyo"
    action = start_action(description)
    assert action.workflow == "ScheduledTaskWorkflow"
    assert action.task_queue == "sundial-tasks"
    assert action.run_timeout is not None and action.run_timeout.total_seconds() == 600
    task = await workflow_input(temporal_client, description)
    assert task["task_query"] == "Generate a daily news digest about AI"
    assert task["task_context"]["max_budget_usd"] == 2.0
    assert task["task_context"]["output_format"] == "markdown"
    assert task["tenant_id"] == ns and task["max_budget_per_run_usd"] == 2.0

    next_action = description.info.next_action_times[0]
    assert datetime.fromisoformat(status["nextRunTime"].replace("Z", "+00:00")) == next_action
    assert status["nextRunTimeLocal"].endswith("09:00 JST")
    assert status["phase"] == "Active"
    assert status["observedGeneration"] == body["metadata"]["generation"]
    assert "Created" in kube.event_reasons(ns, "daily-ai-news")


async def test_spec_edits_reach_temporal_and_observed_generation_follows(
    operator: OperatorProcess, kube: Kube, temporal_client: Client
) -> None:
    ns = kube.new_namespace()
    body = create_ready(kube, ns, "edited", EXAMPLE_SPEC)
    sid = body["status"]["temporal"]["scheduleId"]

    kube.patch_spec(ns, "edited", {"schedule": "30 7 * * 1", "timeZone": "Europe/Paris",
                                   "task": {"query": "weekly digest"}, "policy": {"overlap": "BufferOne"}})
    generation = kube.get(ns, "edited")["metadata"]["generation"]
    body = eventually("observedGeneration follows", lambda: ready(kube, ns, "edited", generation))

    description = await describe(temporal_client, sid)
    calendar = description.schedule.spec.calendars[0]
    assert [r.start for r in calendar.hour] == [7] and [r.start for r in calendar.minute] == [30]
    assert [r.start for r in calendar.day_of_week] == [1]
    assert len(description.schedule.spec.calendars) == 1
    assert description.schedule.spec.time_zone_name == "Europe/Paris"
    assert (await workflow_input(temporal_client, description))["task_query"] == "weekly digest"
    assert description.schedule.policy.overlap.name == "BUFFER_ONE"
    assert body["status"]["nextRunTimeLocal"].endswith("07:30 CET") or body["status"][
        "nextRunTimeLocal"].endswith("07:30 CEST")
    assert "Updated" in kube.event_reasons(ns, "edited")


async def test_paused_spec_pauses_temporal_with_the_reason_and_unpausing_resumes(
    operator: OperatorProcess, kube: Kube, temporal_client: Client
) -> None:
    ns = kube.new_namespace()
    sid = create_ready(kube, ns, "pausable", EXAMPLE_SPEC)["status"]["temporal"]["scheduleId"]

    kube.patch_spec(ns, "pausable", {"paused": True, "pauseReason": "maintenance window"})
    generation = kube.get(ns, "pausable")["metadata"]["generation"]
    body = eventually("paused", lambda: ready(kube, ns, "pausable", generation))
    state = (await describe(temporal_client, sid)).schedule.state
    assert state.paused and state.note == "maintenance window"
    assert body["status"]["phase"] == "Paused"
    paused = condition(body, "Paused")
    assert (paused["status"], paused["reason"]) == ("True", "UserRequested")

    kube.patch_spec(ns, "pausable", {"paused": False})
    generation = kube.get(ns, "pausable")["metadata"]["generation"]
    body = eventually("resumed", lambda: ready(kube, ns, "pausable", generation))
    assert not (await describe(temporal_client, sid)).schedule.state.paused
    assert body["status"]["phase"] == "Active"
    assert condition(body, "Paused")["status"] == "False"
    assert {"Paused", "Resumed"} <= set(kube.event_reasons(ns, "pausable"))


async def test_delete_removes_the_temporal_schedule_before_the_resource(
    operator: OperatorProcess, kube: Kube, temporal_client: Client
) -> None:
    ns = kube.new_namespace()
    sid = create_ready(kube, ns, "doomed", EXAMPLE_SPEC)["status"]["temporal"]["scheduleId"]
    assert kube.get(ns, "doomed")["metadata"]["finalizers"] == ["sundial.dev/temporal-schedule"]

    kube.delete(ns, "doomed")
    eventually("resource gone", lambda: not kube.exists(ns, "doomed"))
    assert not await schedule_exists(temporal_client, sid)


async def test_delete_waits_while_temporal_is_down_and_finishes_when_it_is_back(
    operator: OperatorProcess, kube: Kube, temporal_client: Client, temporal_server: Any
) -> None:
    ns = kube.new_namespace()
    sid = create_ready(kube, ns, "patient", EXAMPLE_SPEC)["status"]["temporal"]["scheduleId"]
    temporal_server.stop()
    try:
        kube.delete(ns, "patient")
        eventually("phase Deleting", lambda: kube.get(ns, "patient")["status"].get("phase") == "Deleting")
        assert kube.exists(ns, "patient")  # the finalizer holds it while Temporal is away
    finally:
        temporal_server.start()
    eventually("resource gone once Temporal is back", lambda: not kube.exists(ns, "patient"), timeout=90)
    assert not await schedule_exists(temporal_client, sid)


async def test_schedule_left_by_a_crash_is_adopted_not_duplicated(
    operator: OperatorProcess, kube: Kube, temporal_client: Client
) -> None:
    """The operator died after creating the Temporal schedule and before writing status."""
    from sundial.adapters.temporal_mapping import build_schedule
    from sundial.domain.models import ScheduleSpec
    from sundial.domain.translate import WorkflowDefaults, desired_from_spec

    ns = kube.new_namespace(webhook=False)  # created while the operator (and so its webhooks) is down
    operator.stop()
    try:
        created = kube.create(ns, "survivor", {**EXAMPLE_SPEC, "schedule": "0 10 * * *"})
        identity = ScheduleIdentity(cluster_id(kube), ns, "survivor", created["metadata"]["uid"])
        stale = desired_from_spec(ScheduleSpec.model_validate(EXAMPLE_SPEC), identity, WorkflowDefaults(), "",
                                  None)
        await temporal_client.create_schedule(identity.schedule_id, build_schedule(stale), memo=identity.memo())
    finally:
        operator.start()
    eventually("adopted", lambda: ready(kube, ns, "survivor"))
    description = await describe(temporal_client, identity.schedule_id)
    assert [r.start for r in description.schedule.spec.calendars[0].hour] == [10]
    ours = [entry.id async for entry in await temporal_client.list_schedules() if ns in entry.id]
    assert ours == [identity.schedule_id]
    assert "Adopted" in kube.event_reasons(ns, "survivor")


def kubectl(plane: LocalControlPlane, *args: str) -> str:
    return subprocess.run([str(plane.binaries.kubectl), "--kubeconfig", str(plane.kubeconfig), *args],
                          check=True, capture_output=True, text=True, timeout=60).stdout


def test_kubectl_get_sched_shows_printer_columns_with_values(
    operator: OperatorProcess, kube: Kube, control_plane: LocalControlPlane
) -> None:
    ns = kube.new_namespace()
    kube.create(ns, "columns", EXAMPLE_SPEC)
    eventually("Ready", lambda: ready(kube, ns, "columns"))
    table = kubectl(control_plane, "get", "sched", "-n", ns)
    header, row = table.splitlines()[:2]
    assert header.split() == ["NAME", "SCHEDULE", "TIMEZONE", "PHASE", "NEXT", "RUN", "LAST", "RUN",
                              "RUNS", "FAILED", "AGE"]
    assert row.split()[:7] == ["columns", "0", "9", "*", "*", "*", "Asia/Tokyo"]
    assert "Active" in row.split()
    listed = json.loads(kubectl(control_plane, "get", "sundial", "-n", ns, "-o", "json"))
    assert [item["metadata"]["name"] for item in listed["items"]] == ["columns"]


def test_kubectl_explain_prints_field_descriptions(operator: OperatorProcess,
                                                   control_plane: LocalControlPlane) -> None:
    from sundial.domain.models import PolicySpec

    text = " ".join(kubectl(control_plane, "explain", "schedule.spec.policy").split())
    for field_name, field_info in PolicySpec.model_fields.items():
        assert field_info.description, field_name
        assert " ".join(field_info.description.split()) in text, field_name


async def test_temporal_outage_shows_unavailable_and_recovers_without_a_restart(
    operator: OperatorProcess, kube: Kube, temporal_client: Client, temporal_server: Any
) -> None:
    ns = kube.new_namespace()
    starts_before = operator.starts
    temporal_server.stop()
    try:
        kube.create(ns, "outage", EXAMPLE_SPEC)
        body = eventually("Ready=False TemporalUnavailable",
                          lambda: condition(kube.get(ns, "outage"), "Ready").get("reason") == "TemporalUnavailable"
                          and kube.get(ns, "outage"), timeout=60)
        assert condition(body, "Ready")["status"] == "False"
        assert "TemporalUnavailable" in [e.reason for e in kube.events(ns, "outage") if e.type == "Warning"]
    finally:
        temporal_server.start()
    body = eventually("Ready once Temporal is back", lambda: ready(kube, ns, "outage"), timeout=90)
    assert await schedule_exists(temporal_client, body["status"]["temporal"]["scheduleId"])
    assert operator.starts == starts_before and operator.proc is not None and operator.proc.running()
