"""``sundial import`` and ``sundial.dev/adopt`` end to end: a schedule made with the temporal CLI is
taken over by the operator without a gap and without a second schedule.

Runs here come from a one-minute cron (an operator with ``SCHEDULE_MIN_INTERVAL_MINS=1`` is
started for the test) on a task queue no worker polls: each run stays open until its 20 s run
timeout, then closes TIMED_OUT, which is enough to see it listed and counted.
"""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

import pytest
import yaml
from temporalio.client import Client, Schedule, ScheduleActionStartWorkflow, ScheduleSpec
from temporalio.service import RPCError, RPCStatusCode
from tests.e2e.helpers import Kube, Replacements, condition, ready
from tests.e2e.test_schedule_lifecycle import EXAMPLE_SPEC
from tests.e2e.workers import cli_env, executions, sundial
from tests.support.waiting import eventually, eventually_async

from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.operator_process import OperatorProcess
from sundial.devstack.temporal_dev import TemporalDevServer
from sundial.domain.desired import ScheduleIdentity

QUEUE = "sundial-e2e-adoption-nobody"


@pytest.fixture
def minute_operator(replace_operator: Replacements) -> OperatorProcess:
    """An operator with a one-minute minimum interval for this test, in place of the session's."""
    return replace_operator("adoption", SCHEDULE_MIN_INTERVAL_MINS="1",  # the platform team allows the legacy workflow
                            SUNDIAL_ALLOWED_WORKFLOW_TYPES="ScheduledTaskWorkflow,LegacyReport",
                            SUNDIAL_ALLOWED_TASK_QUEUES=f"sundial-tasks,{QUEUE}")


def temporal_cli(server: TemporalDevServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(server.temporal_bin), *args, "--address", server.address], capture_output=True,
                          text=True, timeout=60)


def kubectl_apply(control_plane: LocalControlPlane, document: str) -> subprocess.CompletedProcess[str]:
    kubectl = [str(control_plane.binaries.kubectl), "--kubeconfig", str(control_plane.kubeconfig)]
    return subprocess.run([*kubectl, "apply", "-f", "-"], input=document, capture_output=True, text=True, timeout=60)


async def schedule_count(client: Client, *ids: str) -> int:
    """How many of these IDs exist as Temporal schedules (describe: no visibility lag)."""
    found = 0
    for schedule_id in ids:
        try:
            await client.get_schedule_handle(schedule_id).describe()
            found += 1
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
    return found


async def test_a_temporal_cli_schedule_is_imported_adopted_and_keeps_firing_under_one_id(
    minute_operator: OperatorProcess, kube: Kube, temporal_client: Client,
    control_plane: LocalControlPlane, temporal_server: TemporalDevServer,
) -> None:
    ns = kube.new_namespace()
    sid = f"legacy-report-{time.monotonic_ns()}"
    made = temporal_cli(temporal_server, "schedule", "create", "--schedule-id", sid, "--cron", "* * * * *",
                        "--type", "LegacyReport", "--task-queue", QUEUE, "--workflow-id", f"{sid}-wf",
                        "--input", '{"report": "daily"}', "--overlap-policy", "AllowAll", "--run-timeout", "20s")
    assert made.returncode == 0, made.stderr
    before = await eventually_async("a run before adoption", lambda: _runs_of(temporal_client, sid, f"{sid}-wf-"),
                                    timeout=90)

    env = cli_env(control_plane, temporal_server)
    imported = sundial(env, "import", sid, "-n", ns, "--name", "legacy")
    assert imported.returncode == 0, imported.stderr
    document = imported.stdout
    assert f"sundial.dev/adopt: {sid}" in document and "schedule: '* * * * *'" in document
    applied = kubectl_apply(control_plane, document)
    assert applied.returncode == 0, applied.stderr

    body = eventually("adopted and Ready", lambda: ready(kube, ns, "legacy"), timeout=60)
    assert body["status"]["temporal"]["scheduleId"] == sid
    assert "Adopted" in kube.event_reasons(ns, "legacy")
    description = await temporal_client.get_schedule_handle(sid).describe()
    memo = await description.memo()
    assert memo["sundial.dev/namespace"] == ns and memo["sundial.dev/name"] == "legacy"
    deterministic = ScheduleIdentity(memo["sundial.dev/cluster-id"], ns, "legacy", body["metadata"]["uid"]).schedule_id
    assert deterministic != sid
    assert await schedule_count(temporal_client, sid, deterministic) == 1

    after = await eventually_async("a run after adoption", lambda: _runs_of(temporal_client, sid, f"{sid}-20"),
                                   timeout=90)
    assert await schedule_count(temporal_client, sid, deterministic) == 1
    listed = sundial(env, "runs", "legacy", "-n", ns, "-o", "json")
    assert listed.returncode == 0, listed.stderr
    shown = {run["workflowId"] for run in json.loads(listed.stdout)["runs"]}
    assert any(w.startswith(f"{sid}-wf-") for w in shown), shown  # before adoption: the old workflow ID
    assert any(w.startswith(f"{sid}-20") for w in shown), shown  # after: Sundial's <scheduleId>-<time>
    assert {r.id for r in before} <= shown and {r.id for r in after} <= shown
    # run accounting counts the adopted schedule's runs (each times out after 20 s: nobody polls QUEUE)
    after_ids = {r.id for r in after}
    counted = eventually("a run after adoption counted", lambda: [r for r in _status(kube, ns).get("recentRuns") or []
                                                                  if r["workflowId"] in after_ids], timeout=60)
    assert counted[0]["status"] == "TIMED_OUT" and _status(kube, ns)["runs"]["failed"] >= 1

    kube.delete(ns, "legacy")  # the adopted schedule is Sundial's now: deleting the resource deletes it
    eventually("deleted", lambda: not kube.exists(ns, "legacy"), timeout=30)
    assert await schedule_count(temporal_client, sid) == 0


def _status(kube: Kube, namespace: str) -> dict[str, Any]:
    found: dict[str, Any] = kube.get(namespace, "legacy").get("status") or {}
    return found


async def _runs_of(client: Client, sid: str, prefix: str) -> list[Any] | None:
    """The schedule's runs whose workflow ID starts with ``prefix``; None while there is none."""
    runs = [r for r in await executions(client, sid) if r.id.startswith(prefix)]
    return runs or None


async def test_import_refuses_what_a_schedule_cannot_express(
    kube: Kube, control_plane: LocalControlPlane, temporal_server: TemporalDevServer,
) -> None:
    sid = f"every-90m-{time.monotonic_ns()}"
    made = temporal_cli(temporal_server, "schedule", "create", "--schedule-id", sid, "--interval", "90m",
                        "--cron", "0 9 * * *", "--type", "X", "--task-queue", QUEUE, "--workflow-id", sid)
    assert made.returncode == 0, made.stderr
    imported = sundial(cli_env(control_plane, temporal_server), "import", sid, "-n", "default")
    assert imported.returncode == 0, imported.stderr[-3000:]  # a cron and an interval: spec.schedules
    schedules = yaml.safe_load(imported.stdout)["spec"]["schedules"]
    assert sorted(schedules) == ["0 9 * * *", "@every 1h30m"], imported.stdout
    crowded = f"eleven-crons-{time.monotonic_ns()}"
    crons = [arg for minute in range(11) for arg in ("--cron", f"{minute} 9 * * *")]
    made = temporal_cli(temporal_server, "schedule", "create", "--schedule-id", crowded, *crons, "--type", "X",
                        "--task-queue", QUEUE, "--workflow-id", crowded)
    assert made.returncode == 0, made.stderr
    refused = sundial(cli_env(control_plane, temporal_server), "import", crowded, "-n", "default")
    assert refused.returncode == 1 and refused.stdout == "", refused.stderr[-3000:]
    assert "cannot be expressed as a Sundial Schedule" in refused.stderr
    assert "it has 11 calendars and intervals (spec.schedules takes at most 10)" in refused.stderr
    missing = sundial(cli_env(control_plane, temporal_server), "import", f"{sid}-nope", "-n", "default")
    assert missing.returncode == 1 and missing.stdout == "", missing.stderr[-3000:]
    assert missing.stderr.startswith(f"error: Temporal: describe schedule {sid}-nope:")
    assert "not found" in missing.stderr


def stalled(kube: Kube, namespace: str, name: str, reason: str) -> dict[str, Any] | None:
    found = condition(kube.get(namespace, name), "Stalled")
    return found if (found.get("status"), found.get("reason")) == ("True", reason) else None


async def test_a_schedule_another_owner_claims_is_never_adopted_nor_deleted(
    operator: OperatorProcess, kube: Kube, temporal_client: Client,
) -> None:
    ns = kube.new_namespace()
    theirs = f"payments-nightly-{time.monotonic_ns()}"
    await temporal_client.create_schedule(theirs, Schedule(
        action=ScheduleActionStartWorkflow("Nightly", id=theirs, task_queue=QUEUE),
        spec=ScheduleSpec(cron_expressions=["0 3 * * *"])), memo={"owner": "payments"})
    kube.create(ns, "grab", EXAMPLE_SPEC, annotations={"sundial.dev/adopt": theirs})
    refused = eventually("refused", lambda: stalled(kube, ns, "grab", "AdoptionRefused"), timeout=30)
    assert "its memo names another owner (owner=payments)" in refused["message"]

    kube.create(ns, "own", EXAMPLE_SPEC)  # a Sundial schedule of another resource
    own_id = eventually("Ready", lambda: ready(kube, ns, "own"))["status"]["temporal"]["scheduleId"]
    kube.create(ns, "grab-own", EXAMPLE_SPEC, annotations={"sundial.dev/adopt": own_id})
    refused = eventually("refused", lambda: stalled(kube, ns, "grab-own", "AdoptionRefused"), timeout=30)
    assert f"managed by Sundial for {ns}/own" in refused["message"]

    for name in ("grab", "grab-own"):  # deleting a refused resource deletes nobody's schedule
        kube.delete(ns, name)
        eventually(f"{name} deleted", lambda name=name: not kube.exists(ns, name), timeout=30)  # type: ignore[misc]
    assert await schedule_count(temporal_client, theirs, own_id) == 2
    memo = await (await temporal_client.get_schedule_handle(theirs).describe()).memo()
    assert memo == {"owner": "payments"}
    await temporal_client.get_schedule_handle(theirs).delete()
