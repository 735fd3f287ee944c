"""The admission webhooks as users meet them: the real kube-apiserver calls the operator over TLS.

``kubectl apply`` refuses what the reconcile would mark Stalled, with the same message; it
warns about DST surprises; it records the creator; per-user quotas hold across namespaces;
deletes work with the operator down, and creates then fail loudly. Namespaces made with
``webhook=False`` are left out of the webhooks, so the reconcile alone judges there.
"""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import yaml
from kubernetes import client
from temporalio.client import Client, ScheduleActionExecutionStartWorkflow
from tests.e2e.helpers import Kube, Replacements, condition, ready
from tests.e2e.test_schedule_lifecycle import EXAMPLE_SPEC, schedule_exists, schedule_id
from tests.support.waiting import eventually

from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.operator_process import OperatorProcess

SEVEN_BAD = [
    pytest.param({"schedule": "*/5 * * * *"}, "IntervalTooShort", id="every-5-min"),
    pytest.param({"schedule": "0,45 9 * * *"}, "IntervalTooShort", id="45-min-gap"),
    pytest.param({"schedule": "0 25 * * *"}, "InvalidCronExpression", id="hour-25"),
    pytest.param({"timeZone": "Asia/Tokio"}, "InvalidTimezone", id="asia-tokio"),
    pytest.param({"maxBudgetPerRunUSD": 50}, "BudgetExceeded", id="budget-50"),
    pytest.param({"displayName": "x" * 256}, "InvalidSpec", id="displayname-256"),
    pytest.param({"startAt": "2027-02-01T00:00:00Z", "endAt": "2027-01-01T00:00:00Z"}, "InvalidSpec",
                 id="end-before-start"),
]


def manifest(namespace: str, name: str, spec: dict[str, Any], annotations: dict[str, str] | None = None) -> str:
    return yaml.safe_dump({"apiVersion": "sundial.dev/v1alpha1", "kind": "Schedule",
                           "metadata": {"name": name, "namespace": namespace, "annotations": annotations or {}},
                           "spec": spec}, allow_unicode=True)


def kubectl(plane: LocalControlPlane, *args: str, stdin: str | None = None,
            user: str | None = None) -> subprocess.CompletedProcess[str]:
    impersonate = ["--as", user] if user else []
    return subprocess.run([str(plane.binaries.kubectl), "--kubeconfig", str(plane.kubeconfig), *impersonate, *args],
                          input=stdin, capture_output=True, text=True, timeout=60)


def apply(plane: LocalControlPlane, namespace: str, name: str, spec: dict[str, Any], *extra: str,
          user: str | None = None, annotations: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return kubectl(plane, "apply", *extra, "-f", "-", stdin=manifest(namespace, name, spec, annotations), user=user)


def stalled_message(kube: Kube, namespace: str, name: str) -> str:
    """The Stalled condition's message, once the reconcile has set it."""
    def stalled() -> str:
        found = condition(kube.get(namespace, name), "Stalled")
        return str(found.get("message", "")) if found.get("status") == "True" else ""
    message: str = eventually(f"{namespace}/{name} Stalled", stalled)
    return message


@pytest.mark.parametrize(("change", "reason"), SEVEN_BAD)
async def test_kubectl_apply_refuses_a_bad_spec_with_the_message_the_reconcile_puts_in_stalled(
    operator: OperatorProcess, kube: Kube, control_plane: LocalControlPlane, temporal_client: Client,
    change: dict[str, Any], reason: str,
) -> None:
    spec = {**EXAMPLE_SPEC, **change}
    backstop = kube.new_namespace(webhook=False)
    kube.create(backstop, "bad", spec)
    stalled = stalled_message(kube, backstop, "bad")
    assert condition(kube.get(backstop, "bad"), "Stalled")["reason"] == reason

    ns = kube.new_namespace()
    dry = apply(control_plane, ns, "bad", spec, "--dry-run=server")
    refused = apply(control_plane, ns, "bad", spec)
    for result in (dry, refused):
        assert result.returncode != 0
        assert 'admission webhook "validate.schedules.sundial.dev" denied the request: ' + stalled in result.stderr
    print(refused.stderr.strip())  # the closing note quotes these
    assert kubectl(control_plane, "get", "sched", "-n", ns, "-o", "name").stdout == ""
    assert not kube.exists(ns, "bad")
    assert not await schedule_exists(temporal_client, schedule_id(kube, ns, "bad"))


def first_sunday_of_november_after(today: date) -> date:
    for year in (today.year, today.year + 1):
        first = date(year, 11, 1)
        sunday = first + timedelta(days=(6 - first.weekday()) % 7)
        if sunday > today:
            return sunday
    raise AssertionError("unreachable")


def test_a_wall_clock_time_repeated_by_dst_is_accepted_with_a_warning_naming_the_date(
    operator: OperatorProcess, kube: Kube, control_plane: LocalControlPlane
) -> None:
    ns = kube.new_namespace()
    result = apply(control_plane, ns, "night", {**EXAMPLE_SPEC, "schedule": "30 1 * * *",
                                               "timeZone": "America/New_York"})
    assert result.returncode == 0, result.stderr
    day = first_sunday_of_november_after(datetime.now(UTC).date())
    assert (f'Warning: spec.schedule: "30 1 * * *" in America/New_York runs twice at 01:30 on {day.isoformat()}'
            in result.stderr)
    print(result.stderr.strip())
    eventually("Ready", lambda: ready(kube, ns, "night"))


def grant_schedule_editing(kube: Kube, namespace: str, *users: str) -> None:
    rbac = client.RbacAuthorizationV1Api(kube.api)
    rbac.create_namespaced_role(namespace, client.V1Role(
        metadata=client.V1ObjectMeta(name="schedule-editor"),
        rules=[client.V1PolicyRule(api_groups=["sundial.dev"], resources=["schedules"],
                                   verbs=["get", "list", "watch", "create", "update", "patch", "delete"])]))
    rbac.create_namespaced_role_binding(namespace, client.V1RoleBinding(
        metadata=client.V1ObjectMeta(name="schedule-editors"),
        role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name="schedule-editor"),
        subjects=[client.RbacV1Subject(api_group="rbac.authorization.k8s.io", kind="User", name=user)
                  for user in users]))


def creator(kube: Kube, namespace: str, name: str) -> str | None:
    annotations = kube.get(namespace, name)["metadata"].get("annotations") or {}
    value: str | None = annotations.get("sundial.dev/created-by")
    return value


async def run_input(temporal_client: Client, sid: str) -> dict[str, Any]:
    """Trigger one run now and read the input its workflow was started with."""
    handle = temporal_client.get_schedule_handle(sid)
    await handle.trigger()

    async def started() -> str | None:
        actions = (await handle.describe()).info.recent_actions
        action = actions[-1].action if actions else None
        return action.workflow_id if isinstance(action, ScheduleActionExecutionStartWorkflow) else None

    deadline = datetime.now(UTC) + timedelta(seconds=20)
    workflow_id = await started()
    while workflow_id is None and datetime.now(UTC) < deadline:
        workflow_id = await started()
    assert workflow_id, "the triggered run did not start"
    history = await temporal_client.get_workflow_handle(workflow_id).fetch_history()
    payloads = history.events[0].workflow_execution_started_event_attributes.input.payloads
    value: dict[str, Any] = temporal_client.data_converter.payload_converter.from_payloads(list(payloads))[0]
    return value


async def test_the_per_user_quota_holds_across_namespaces_and_the_creator_is_recorded(
    replace_operator: Replacements, kube: Kube, control_plane: LocalControlPlane, temporal_client: Client
) -> None:
    replace_operator("quota-of-two", SCHEDULE_MAX_PER_USER="2")
    one, two = kube.new_namespace(), kube.new_namespace()
    for ns in (one, two):
        grant_schedule_editing(kube, ns, "alice", "bob")
    for ns, name in ((one, "a1"), (two, "a2")):
        created = apply(control_plane, ns, name, EXAMPLE_SPEC, user="alice")
        assert created.returncode == 0, created.stderr
    for ns in (one, two):
        third = apply(control_plane, ns, "a3", EXAMPLE_SPEC, user="alice")
        assert third.returncode != 0
        assert "Error from server (Forbidden)" in third.stderr
        assert "user alice has 3 schedules; the limit is 2 (SCHEDULE_MAX_PER_USER)" in third.stderr
        print(third.stderr.strip())
        assert not kube.exists(ns, "a3")
    bobs = apply(control_plane, one, "b1", EXAMPLE_SPEC, user="bob")
    assert bobs.returncode == 0, bobs.stderr

    assert (creator(kube, one, "a1"), creator(kube, two, "a2"), creator(kube, one, "b1")) == ("alice", "alice", "bob")
    wide = kubectl(control_plane, "get", "sched", "-n", one, "-o", "wide").stdout.splitlines()
    assert wide[0].split()[-1] == "CREATOR"
    assert sorted(line.split()[-1] for line in wide[1:]) == ["alice", "bob"]

    changed = kubectl(control_plane, "annotate", "sched", "a1", "-n", one, "sundial.dev/created-by=bob",
                      "--overwrite", user="alice")
    assert changed.returncode != 0 and 'cannot be changed from "alice" to "bob"' in changed.stderr
    forged = apply(control_plane, two, "forged", EXAMPLE_SPEC, user="bob", annotations={
        "sundial.dev/created-by": "carol"})
    assert forged.returncode != 0 and '"carol" cannot be set by hand' in forged.stderr
    reapplied = apply(control_plane, one, "a1", {**EXAMPLE_SPEC, "description": "edited"}, "--server-side",
                      user="alice")  # a manifest without the annotation: it stays
    assert reapplied.returncode == 0, reapplied.stderr
    assert creator(kube, one, "a1") == "alice"

    sid = eventually("a1 Ready", lambda: ready(kube, one, "a1"))["status"]["temporal"]["scheduleId"]
    assert (await run_input(temporal_client, sid))["user_id"] == "alice"


def test_a_burst_of_concurrent_creates_cannot_slip_past_the_quota(
    replace_operator: Replacements, kube: Kube, control_plane: LocalControlPlane
) -> None:
    replace_operator("burst", SCHEDULE_MAX_PER_USER="2")
    ns = kube.new_namespace()
    grant_schedule_editing(kube, ns, "dave")
    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda n: apply(control_plane, ns, f"d{n}", EXAMPLE_SPEC, user="dave"), range(10)))
    assert sum(result.returncode == 0 for result in results) == 2
    refused = [result.stderr for result in results if result.returncode != 0]
    assert all("the limit is 2 (SCHEDULE_MAX_PER_USER)" in stderr for stderr in refused), refused
    assert kubectl(control_plane, "get", "sched", "-n", ns, "-o", "name").stdout.count("\n") == 2


def test_the_reconcile_enforces_the_user_quota_where_the_webhook_is_off(
    replace_operator: Replacements, kube: Kube
) -> None:
    replace_operator("backstop", SCHEDULE_MAX_PER_USER="2")
    ns = kube.new_namespace(webhook=False)
    for name in ("c1", "c2", "c3"):
        kube.create(ns, name, EXAMPLE_SPEC, annotations={"sundial.dev/created-by": "carol"})
    assert stalled_message(kube, ns, "c3") == "user carol has 3 schedules; the limit is 2 (SCHEDULE_MAX_PER_USER)"
    assert condition(kube.get(ns, "c3"), "Stalled")["reason"] == "ScheduleLimitReached"
    eventually("the oldest two Ready", lambda: ready(kube, ns, "c1") and ready(kube, ns, "c2"))


async def test_with_the_operator_stopped_deletes_work_and_applies_fail_loudly(
    operator: OperatorProcess, kube: Kube, control_plane: LocalControlPlane, temporal_client: Client
) -> None:
    ns = kube.new_namespace()
    kube.create(ns, "doomed", EXAMPLE_SPEC)
    sid = eventually("Ready", lambda: ready(kube, ns, "doomed"))["status"]["temporal"]["scheduleId"]
    operator.stop()
    try:
        deleted = kubectl(control_plane, "delete", "sched", "doomed", "-n", ns, "--wait=false")
        assert deleted.returncode == 0, deleted.stderr
        assert kube.get(ns, "doomed")["metadata"].get("deletionTimestamp")  # the finalizer waits for us
        refused = apply(control_plane, ns, "newcomer", EXAMPLE_SPEC)
        assert refused.returncode != 0
        assert 'failed calling webhook "mutate.schedules.sundial.dev"' in refused.stderr
        assert "connection refused" in refused.stderr
        print(refused.stderr.strip())
    finally:
        operator.start()
    eventually("deleted once the operator is back", lambda: not kube.exists(ns, "doomed"), timeout=30)
    assert not await schedule_exists(temporal_client, sid)


def test_the_webhook_configurations_never_intercept_deletes(operator: OperatorProcess,
                                                            control_plane: LocalControlPlane) -> None:
    for kind in ("validatingwebhookconfiguration", "mutatingwebhookconfiguration"):
        config = json.loads(kubectl(control_plane, "get", kind, "sundial-schedules", "-o", "json").stdout)
        for webhook in config["webhooks"]:
            if webhook["name"] == "finalizer.schedules.sundial.dev":  # adds kopf's finalizer; kopf does without it
                assert (webhook["rules"][0]["operations"], webhook["failurePolicy"]) == (["CREATE"], "Ignore")
            else:
                assert (webhook["rules"][0]["operations"], webhook["failurePolicy"]) == (["CREATE", "UPDATE"], "Fail")
            assert (webhook["sideEffects"], webhook["timeoutSeconds"]) == ("None", 5)
