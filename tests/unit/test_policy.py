"""SchedulePolicy's pure core: selectors, strictest-wins, defaults, sources in refusals, status, CRD."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.support.chart import render

from sundial.domain.indexed import IndexedSchedule
from sundial.domain.policy import (
    Policy,
    PolicyView,
    effective_limits,
    policies_named,
    policy_from_body,
    policy_status,
    selects,
)
from sundial.domain.policy_crd import policy_crd_yaml
from sundial.domain.policy_models import LabelSelector, SchedulePolicySpec
from sundial.domain.readmission import readmissions
from sundial.domain.rules import LIMIT_REACHED, Limits
from sundial.domain.validation import Peers, check_spec
from sundial.errors import SpecInvalid

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
DEFAULTS = Limits()  # the operator's settings: 60 min, 50 per namespace, $10 a run, ScheduledTaskWorkflow
SPEC = {"schedule": "0 * * * *", "task": {"query": "q"}}


def policy(name: str, **spec: Any) -> Policy:
    return policy_from_body({"metadata": {"name": name}, "spec": spec})


def refusal(spec: dict[str, Any], limits: Limits, namespace: str = "ns") -> SpecInvalid:
    with pytest.raises(SpecInvalid) as caught:
        check_spec({**SPEC, **spec}, {"namespace": namespace, "name": "s"}, Peers(), limits, NOW)
    return caught.value


@pytest.mark.parametrize(("selector", "labels", "selected"), [
    ({}, {}, True),
    ({}, {"team": "x"}, True),
    ({"matchLabels": {"team": "monitoring"}}, {"team": "monitoring", "env": "prod"}, True),
    ({"matchLabels": {"team": "monitoring"}}, {"team": "sandbox"}, False),
    ({"matchLabels": {"team": "monitoring"}}, {}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]}, {"tier": "b"}, True),
    ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a"]}]}, {}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["a"]}]}, {}, True),
    ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["a"]}]}, {"tier": "a"}, False),
    ({"matchExpressions": [{"key": "sandbox", "operator": "Exists"}]}, {"sandbox": ""}, True),
    ({"matchExpressions": [{"key": "sandbox", "operator": "DoesNotExist"}]}, {"sandbox": ""}, False),
    ({"matchLabels": {"team": "m"}, "matchExpressions": [{"key": "env", "operator": "Exists"}]}, {"team": "m"},
     False),
])
def test_label_selectors_match_like_kubernetes(selector: dict[str, Any], labels: dict[str, str],
                                               selected: bool) -> None:
    assert selects(LabelSelector.model_validate(selector), labels) is selected


def test_no_selecting_policy_leaves_the_operator_settings() -> None:
    limits = effective_limits(DEFAULTS, [policy("monitoring", namespaceSelector={"matchLabels": {"team": "m"}},
                                                minInterval="5m")], {"team": "other"})
    assert limits == DEFAULTS
    assert limits.source("min_interval_minutes") == "SCHEDULE_MIN_INTERVAL_MINS"
    assert "(SCHEDULE_MIN_INTERVAL_MINS)" in refusal({"schedule": "*/5 * * * *"}, limits).message


def test_a_selecting_policy_replaces_the_setting_even_when_looser() -> None:
    limits = effective_limits(DEFAULTS, [policy("monitoring", namespaceSelector={"matchLabels": {"team": "m"}},
                                                minInterval="5m")], {"team": "m"})
    assert limits.min_interval_minutes == 5
    check_spec({**SPEC, "schedule": "*/5 * * * *"}, {"namespace": "ns", "name": "s"}, Peers(), limits, NOW)
    message = refusal({"schedule": "*/2 * * * *"}, limits).message
    assert message == ('spec.schedule: "*/2 * * * *" runs every 2 min; the minimum interval is 5 min '
                       '(SchedulePolicy "monitoring")')


def test_the_strictest_value_wins_and_names_its_policy() -> None:
    loose = policy("loose", minInterval="10m", maxBudgetPerRunUSD=5, maxSchedulesPerNamespace=20)
    strict = policy("strict", minInterval="2h", maxBudgetPerRunUSD=1, maxSchedulesPerUser=3)
    limits = effective_limits(DEFAULTS, [strict, loose], {})
    assert (limits.min_interval_minutes, limits.max_budget_usd) == (120, 1)
    assert (limits.max_per_namespace, limits.max_per_user) == (20, 3)
    assert dict(limits.sources) == {
        "min_interval_minutes": 'SchedulePolicy "strict"', "max_budget_usd": 'SchedulePolicy "strict"',
        "max_per_namespace": 'SchedulePolicy "loose"', "max_per_user": 'SchedulePolicy "strict"'}
    budget = refusal({"maxBudgetPerRunUSD": 2, "schedule": "0 0 * * *"}, limits)
    assert budget.message == 'spec.maxBudgetPerRunUSD: 2.0 is over the cap of 1.0 (SchedulePolicy "strict")'
    assert policies_named(budget.message) == ["strict"]


def test_allow_lists_intersect_and_a_star_allows_what_the_other_allows() -> None:
    one = policy("one", allowedWorkflowTypes=["ScheduledTaskWorkflow", "Report"], allowedTaskQueues=["*"])
    two = policy("two", allowedWorkflowTypes=["Report", "Other"], allowedTaskQueues=["q1"])
    limits = effective_limits(DEFAULTS, [one, two], {})
    assert limits.workflow_types == ("Report",) and limits.task_queues == ("q1",)
    problem = refusal({"workflow": {"type": "Other"}}, limits)
    assert problem.reason == "WorkflowTypeNotAllowed"
    assert problem.message == ('spec.workflow.type: "Other" is not allowed; allowed: Report '
                               '(SchedulePolicy "one" and SchedulePolicy "two")')
    assert policies_named(problem.message) == ["one", "two"]


def test_workflow_type_allow_list_of_a_policy() -> None:
    limits = effective_limits(DEFAULTS, [policy("tenants", allowedWorkflowTypes=["ScheduledTaskWorkflow"])], {})
    check_spec({**SPEC, "workflow": {"type": "ScheduledTaskWorkflow"}}, {"namespace": "n", "name": "s"},
               Peers(), limits, NOW)
    assert refusal({"workflow": {"type": "DropTables"}}, limits).reason == "WorkflowTypeNotAllowed"


def test_total_budget_cap_is_required_and_capped_and_time_zones_are_limited() -> None:
    limits = effective_limits(DEFAULTS, [policy("sandbox", maxTotalBudgetUSD=20, allowedTimeZones=["UTC"])], {})
    assert refusal({}, limits).message == ('spec.policy.maxTotalBudgetUSD: required, at most 20.0 '
                                           '(SchedulePolicy "sandbox")')
    assert "is over the cap of 20.0" in refusal({"policy": {"maxTotalBudgetUSD": 50}}, limits).message
    zone = refusal({"policy": {"maxTotalBudgetUSD": 5}, "timeZone": "Asia/Tokyo"}, limits)
    assert (zone.reason, zone.field) == ("TimeZoneNotAllowed", "spec.timeZone")
    check_spec({**SPEC, "policy": {"maxTotalBudgetUSD": 5}}, {"namespace": "n", "name": "s"}, Peers(), limits, NOW)


def test_a_policy_quota_names_the_policy() -> None:
    limits = effective_limits(DEFAULTS, [policy("sandbox", maxSchedulesPerNamespace=1)], {})
    peers = Peers(namespace=[("2026-01-01T00:00:00Z", "older")])
    with pytest.raises(SpecInvalid) as caught:
        check_spec(SPEC, {"namespace": "sb", "name": "s", "creationTimestamp": "2026-02-01T00:00:00Z"}, peers,
                   limits, NOW)
    assert caught.value.message == 'namespace sb has 2 schedules; the limit is 1 (SchedulePolicy "sandbox")'


@pytest.mark.parametrize(("text", "minutes"), [("5m", 5), ("1h30m", 90), ("0", 0), ("2h", 120)])
def test_min_interval_is_whole_minutes(text: str, minutes: int) -> None:
    assert SchedulePolicySpec.model_validate({"minInterval": text}).min_interval_minutes == minutes


@pytest.mark.parametrize("text", ["30s", "90s", "5 minutes", "-5m"])
def test_a_malformed_policy_is_kept_with_its_error_and_applies_nothing(text: str) -> None:
    broken = policy("broken", minInterval=text, maxBudgetPerRunUSD=0)
    assert broken.spec is None and broken.error.startswith("spec.minInterval: ")
    assert effective_limits(DEFAULTS, [broken], {}) == DEFAULTS


def test_the_view_reads_kopf_style_indexes() -> None:
    view = PolicyView({"m": [policy("m", namespaceSelector={"matchLabels": {"team": "m"}}, minInterval="5m")]},
                      {"mon": [{"team": "m"}], "other": [{}]})
    assert view.limits_for("mon", DEFAULTS).min_interval_minutes == 5
    assert view.limits_for("other", DEFAULTS) == DEFAULTS
    assert view.limits_for("unknown", DEFAULTS) == DEFAULTS


def test_quota_readmission_uses_each_namespace_limits() -> None:
    waiting = IndexedSchedule(uid="u", phase="Invalid", refusal=LIMIT_REACHED)
    index = {("big", "b2"): waiting, ("small", "s2"): waiting}
    t1, t2 = "2026-01-01T00:00:00+00:00", "2026-01-02T00:00:00+00:00"
    by_namespace = {"big": [(t1, "b1"), (t2, "b2")], "small": [(t1, "s1"), (t2, "s2")]}
    per_namespace = {"big": Limits(max_per_namespace=2), "small": Limits(max_per_namespace=1)}
    assert readmissions(index, by_namespace, per_namespace.__getitem__) == [("big", "b2")]


def test_status_is_written_only_when_the_counts_change() -> None:
    applied = policy("p", minInterval="5m")
    patch = policy_status(applied, {"generation": 2, "status": {}}, 3, 7, 1, NOW)
    assert patch is not None
    assert {k: patch[k] for k in ("observedGeneration", "namespaces", "schedules", "violating")} == \
        {"observedGeneration": 2, "namespaces": 3, "schedules": 7, "violating": 1}
    assert patch["conditions"][0]["status"] == "True" and patch["conditions"][0]["reason"] == "Applied"
    assert policy_status(applied, {"generation": 2, "status": patch}, 3, 7, 1, NOW) is None
    assert policy_status(applied, {"generation": 2, "status": patch}, 3, 7, 0, NOW) is not None
    broken = policy_status(policy("b", minInterval="1s"), {"generation": 1, "status": {}}, 0, 0, 0, NOW)
    assert broken is not None and broken["conditions"][0]["reason"] == "InvalidPolicy"
    assert "spec.minInterval" in broken["conditions"][0]["message"]


def test_the_committed_policy_crd_is_the_generated_one() -> None:
    committed = REPO / "crds" / "sundial.dev_schedulepolicies.yaml"
    assert committed.read_text() == policy_crd_yaml(), "crds/ is stale: run `make crds`"
    result = subprocess.run([sys.executable, "-m", "sundial.domain.policy_crd"], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout == policy_crd_yaml()
    crd = yaml.safe_load(result.stdout)
    assert crd["spec"]["scope"] == "Cluster"
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert spec["properties"]["namespaceSelector"]["properties"]["matchLabels"]["additionalProperties"] == \
        {"type": "string"}
    assert all(prop.get("description") for prop in spec["properties"].values())


def test_no_role_aggregated_to_tenants_may_write_policies(tmp_path: Path) -> None:
    writes = {"create", "update", "patch", "delete", "deletecollection", "*"}
    docs = render({}, tmp_path)
    aggregated = [doc for doc in docs if doc.get("kind") == "ClusterRole"
                  and any(key.startswith("rbac.authorization.k8s.io/aggregate-to")
                          for key in (doc["metadata"].get("labels") or {}))]
    assert aggregated, "the chart ships aggregated roles by default"
    for role in aggregated:
        for rule in role["rules"]:
            if any(resource.startswith("schedulepolicies") or resource == "*" for resource in rule["resources"]):
                assert not writes & set(rule["verbs"]), (role["metadata"]["name"], rule)
    operator = next(doc for doc in docs if doc.get("kind") == "ClusterRole" and doc["metadata"]["name"].endswith(
        "-operator"))
    policy_rules = [rule for rule in operator["rules"] if "schedulepolicies" in rule["resources"]]
    assert policy_rules == [{"apiGroups": ["sundial.dev"], "resources": ["schedulepolicies"],
                             "verbs": ["get", "list", "watch"]}]
