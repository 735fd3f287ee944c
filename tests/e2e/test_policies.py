"""SchedulePolicies against the real stack (issue 15): apiserver + etcd, Temporal, the operator process.

A policy selects namespaces by label; its limits replace the operator's settings there, at
``kubectl apply`` (the webhook) and in status (namespaces left out of the webhook); tightening
one stalls and pauses the schedules that break it, loosening it resumes them; its status counts
what it governs. Policies are cluster-scoped: each test deletes its own, and selects by labels
no other test sets.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, cast

import pytest
from kubernetes import client
from temporalio.client import Client
from tests.e2e.helpers import GROUP, VERSION, Kube, condition, ready
from tests.e2e.test_admission import apply
from tests.e2e.test_refusals import stalled
from tests.e2e.test_schedule_lifecycle import EXAMPLE_SPEC, describe
from tests.support.waiting import eventually, eventually_async

from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.operator_process import OperatorProcess
from sundial.devstack.webhook_certs import BYPASS_LABEL

PLURAL = "schedulepolicies"
EVERY_5_MIN = {**EXAMPLE_SPEC, "schedule": "*/5 * * * *"}
WITHIN = 30.0  # a watch event, the pass and a reconcile, on 2 busy cores


class Policies:
    """Create, patch and read SchedulePolicies; delete every one created at the end."""

    def __init__(self, kube: Kube):
        self.kube, self.created = kube, list[str]()

    def create(self, name: str, spec: dict[str, Any]) -> str:
        body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "SchedulePolicy", "metadata": {"name": name},
                "spec": spec}
        self.kube.custom.create_cluster_custom_object(GROUP, VERSION, PLURAL, body)
        self.created.append(name)
        return name

    def patch(self, name: str, spec: dict[str, Any]) -> None:
        self.kube.custom.patch_cluster_custom_object(GROUP, VERSION, PLURAL, name, {"spec": spec})

    def status(self, name: str) -> dict[str, Any]:
        body = cast(dict[str, Any], self.kube.custom.get_cluster_custom_object(GROUP, VERSION, PLURAL, name))
        return dict(body.get("status") or {})

    def counts(self, name: str, namespaces: int, schedules: int, violating: int) -> dict[str, Any] | None:
        """The status once it shows these counts (None before)."""
        status = self.status(name)
        shown = (status.get("namespaces"), status.get("schedules"), status.get("violating"))
        return status if shown == (namespaces, schedules, violating) else None

    def delete_all(self) -> None:
        for name in self.created:
            try:
                self.kube.custom.delete_cluster_custom_object(GROUP, VERSION, PLURAL, name)
            except client.ApiException as exc:
                if exc.status != 404:
                    raise


@pytest.fixture
def policies(operator: OperatorProcess, kube: Kube) -> Iterator[Policies]:
    made = Policies(kube)
    yield made
    made.delete_all()


def labeled_namespace(kube: Kube, labels: dict[str, str], webhook: bool = True) -> str:
    name = f"t-{uuid.uuid4().hex[:8]}"
    all_labels = {**labels, **({} if webhook else dict([BYPASS_LABEL]))}
    kube.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels=all_labels)))
    return name


def stalled_condition(kube: Kube, namespace: str, name: str) -> dict[str, Any] | None:
    body = stalled(kube, namespace, name)
    return condition(body, "Stalled") if body else None


async def paused_in_temporal(temporal_client: Client, sid: str, paused: bool) -> bool:
    return bool((await describe(temporal_client, sid)).schedule.state.paused) == paused


def test_a_monitoring_policy_allows_every_5_minutes_there_and_nowhere_else(
    policies: Policies, kube: Kube, control_plane: LocalControlPlane,
) -> None:
    name = policies.create(f"monitoring-{uuid.uuid4().hex[:6]}", {
        "namespaceSelector": {"matchLabels": {"team": "monitoring"}}, "minInterval": "5m"})
    monitoring = labeled_namespace(kube, {"team": "monitoring"})
    monitoring_backstop = labeled_namespace(kube, {"team": "monitoring"}, webhook=False)
    elsewhere, elsewhere_backstop = kube.new_namespace(), kube.new_namespace(webhook=False)
    eventually("the operator sees the policy and both namespaces",
               lambda: (policies.status(name).get("namespaces") or 0) >= 2, timeout=WITHIN)

    accepted = apply(control_plane, monitoring, "probe", EVERY_5_MIN)  # the webhook
    assert accepted.returncode == 0, accepted.stderr
    eventually("Ready under the policy", lambda: ready(kube, monitoring, "probe"), timeout=WITHIN)
    watched = kube.core.read_namespace(monitoring).metadata  # kopf only watches namespaces: nothing written
    assert watched is not None and not watched.finalizers
    assert not any(key.startswith("sundial.dev/") for key in watched.annotations or {})
    refused = apply(control_plane, elsewhere, "probe", EVERY_5_MIN)
    assert refused.returncode != 0
    assert ('"*/5 * * * *" runs every 5 min; the minimum interval is 60 min (SCHEDULE_MIN_INTERVAL_MINS)'
            in refused.stderr), refused.stderr
    too_often = apply(control_plane, monitoring, "hammer", {**EXAMPLE_SPEC, "schedule": "*/2 * * * *"})
    assert too_often.returncode != 0
    assert f'the minimum interval is 5 min (SchedulePolicy "{name}")' in too_often.stderr, too_often.stderr

    kube.create(monitoring_backstop, "probe", EVERY_5_MIN)  # no webhook here: the reconcile judges
    kube.create(elsewhere_backstop, "probe", EVERY_5_MIN)
    eventually("Ready under the policy (status)", lambda: ready(kube, monitoring_backstop, "probe"), timeout=WITHIN)
    refusal = eventually("refused elsewhere (status)", lambda: stalled_condition(kube, elsewhere_backstop, "probe"),
                         timeout=WITHIN)
    assert refusal["reason"] == "IntervalTooShort"
    assert refusal["message"].endswith("the minimum interval is 60 min (SCHEDULE_MIN_INTERVAL_MINS)")


async def test_tightening_the_budget_stalls_and_pauses_and_loosening_resumes(
    policies: Policies, kube: Kube, temporal_client: Client,
) -> None:
    tenant = f"sandbox-{uuid.uuid4().hex[:6]}"
    namespace = labeled_namespace(kube, {"tenant": tenant})
    spec = {**EXAMPLE_SPEC, "maxBudgetPerRunUSD": 5}
    kube.create(namespace, "digest", spec)
    body = eventually("Ready", lambda: ready(kube, namespace, "digest"), timeout=WITHIN)
    sid = body["status"]["temporal"]["scheduleId"]
    name = policies.create(f"sandbox-{uuid.uuid4().hex[:6]}", {
        "namespaceSelector": {"matchExpressions": [{"key": "tenant", "operator": "In", "values": [tenant]}]},
        "maxBudgetPerRunUSD": 1, "maxSchedulesPerNamespace": 5})

    refusal = eventually("Stalled by the policy", lambda: stalled_condition(kube, namespace, "digest"),
                         timeout=WITHIN)
    assert refusal["reason"] == "BudgetExceeded"
    assert refusal["message"] == f'spec.maxBudgetPerRunUSD: 5.0 is over the cap of 1.0 (SchedulePolicy "{name}")'
    await eventually_async("paused in Temporal", lambda: paused_in_temporal(temporal_client, sid, True), WITHIN)
    assert ((await describe(temporal_client, sid)).schedule.state.note or "").startswith("BudgetExceeded: ")
    status = eventually("policy status counts the violation", lambda: policies.counts(name, 1, 1, 1),
                        timeout=WITHIN)
    ready_condition = condition({"status": status}, "Ready")
    assert (ready_condition["status"], ready_condition["reason"]) == ("True", "Applied")
    assert status["observedGeneration"] == 1

    policies.patch(name, {"maxBudgetPerRunUSD": 10})
    body = eventually("Ready again", lambda: ready(kube, namespace, "digest"), timeout=WITHIN)
    assert body["status"]["temporal"]["scheduleId"] == sid  # the same schedule, resumed
    await eventually_async("unpaused in Temporal", lambda: paused_in_temporal(temporal_client, sid, False), WITHIN)
    eventually("no violation counted", lambda: policies.counts(name, 1, 1, 0), timeout=WITHIN)

    policies.patch(name, {"maxBudgetPerRunUSD": 1})  # tightened again; then the namespace leaves the policy
    eventually("Stalled again", lambda: stalled_condition(kube, namespace, "digest"), timeout=WITHIN)
    kube.core.patch_namespace(namespace, {"metadata": {"labels": {"tenant": None}}})
    eventually("Ready once the namespace is not selected", lambda: ready(kube, namespace, "digest"), timeout=WITHIN)
    await eventually_async("unpaused", lambda: paused_in_temporal(temporal_client, sid, False), WITHIN)
    eventually("governs nothing now", lambda: policies.counts(name, 0, 0, 0), timeout=WITHIN)


def test_a_policy_allow_list_refuses_other_workflow_types(
    policies: Policies, kube: Kube, control_plane: LocalControlPlane,
) -> None:
    team = f"agents-{uuid.uuid4().hex[:6]}"
    name = policies.create(f"agents-{uuid.uuid4().hex[:6]}", {
        "namespaceSelector": {"matchLabels": {"team": team}}, "allowedWorkflowTypes": ["ScheduledTaskWorkflow"]})
    namespace = labeled_namespace(kube, {"team": team})
    backstop = labeled_namespace(kube, {"team": team}, webhook=False)
    eventually("the operator sees the policy and both namespaces", lambda: policies.counts(name, 2, 0, 0),
               timeout=WITHIN)
    other = {**EXAMPLE_SPEC, "workflow": {"type": "DropTablesWorkflow"}}
    refused = apply(control_plane, namespace, "rogue", other)
    assert refused.returncode != 0
    assert (f'spec.workflow.type: "DropTablesWorkflow" is not allowed; allowed: ScheduledTaskWorkflow '
            f'(SchedulePolicy "{name}")') in refused.stderr, refused.stderr
    allowed = apply(control_plane, namespace, "fine", {**EXAMPLE_SPEC, "workflow": {"type": "ScheduledTaskWorkflow"}})
    assert allowed.returncode == 0, allowed.stderr

    kube.create(backstop, "rogue", other)
    refusal = eventually("refused in status", lambda: stalled_condition(kube, backstop, "rogue"), timeout=WITHIN)
    assert refusal["reason"] == "WorkflowTypeNotAllowed"
    assert f'(SchedulePolicy "{name}")' in refusal["message"]
    eventually("the refusal counted as a violation", lambda: policies.counts(name, 2, 2, 1), timeout=WITHIN)


@pytest.mark.parametrize(("interval", "accepted"), [("30s", False), ("90s", False), ("1.5m", False),
                                                    ("9000h", False), ("90m", True), ("0", True), ("120000ms", True)])
def test_the_schema_refuses_what_the_operator_would_ignore(
    policies: Policies, interval: str, accepted: bool,
) -> None:
    name = f"interval-{uuid.uuid4().hex[:6]}"
    selector = {"matchLabels": {"sundial-e2e-never": name}}  # selects nothing: no other test is touched
    if accepted:
        policies.create(name, {"namespaceSelector": selector, "minInterval": interval})
        status = eventually("Ready", lambda: condition({"status": policies.status(name)}, "Ready"), timeout=WITHIN)
        assert status["status"] == "True"
        return
    with pytest.raises(client.ApiException) as refused:
        policies.create(name, {"namespaceSelector": selector, "minInterval": interval})
    assert refused.value.status == 422
    assert "must be whole minutes (e.g. 5m, 1h, 1h30m), at most 8784h" in str(refused.value.body)
