"""The SchedulePolicy CustomResourceDefinition, generated from ``domain.policy_models`` as the
Schedule's is from ``domain.models`` (same structural conversion, ``domain.crd``).

``python -m sundial.domain.policy_crd > crds/sundial.dev_schedulepolicies.yaml`` (``make crds``)
writes the committed file; a unit test fails when the two differ.
"""

from __future__ import annotations

from typing import Any

import yaml

from sundial.domain.crd import (
    _DURATION_RULE,
    CATEGORIES,
    GROUP,
    VERSION,
    _default_empty_objects,
    _Dumper,
    _structural,
    status_with_conditions,
)
from sundial.domain.durations import format_duration
from sundial.domain.policy_models import MAX_MIN_INTERVAL, SchedulePolicySpec, SchedulePolicyStatus

KIND = "SchedulePolicy"
PLURAL = "schedulepolicies"
SINGULAR = "schedulepolicy"
SHORT_NAMES = ("spol",)
CRD_NAME = f"{PLURAL}.{GROUP}"
HEADER = ("# Generated from sundial.domain.policy_models by `python -m sundial.domain.policy_crd` (make crds). "
          "Do not edit.\n")

_PRINTER_COLUMNS = [
    {"name": "Namespaces", "type": "integer", "jsonPath": ".status.namespaces"},
    {"name": "Schedules", "type": "integer", "jsonPath": ".status.schedules"},
    {"name": "Violating", "type": "integer", "jsonPath": ".status.violating"},
    {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    {"name": "MinInterval", "type": "string", "priority": 1, "jsonPath": ".spec.minInterval"},
    {"name": "MaxBudget", "type": "number", "priority": 1, "jsonPath": ".spec.maxBudgetPerRunUSD"},
]
_SELECTOR_RULE = {
    "rule": "self.operator in ['In', 'NotIn'] ? (has(self.values) && size(self.values) > 0) "
            ": (!has(self.values) || size(self.values) == 0)",
    "message": "In and NotIn need at least one value; Exists and DoesNotExist take none",
}


_WHOLE_MINUTES = {  # what policy_models.minutes() accepts, so a kubectl apply refuses what the operator would ignore
    "rule": f"!{_DURATION_RULE['rule']} || self == '0' || (duration(self).getMilliseconds() % 60000 == 0 "
            f"&& duration(self) <= duration('{format_duration(MAX_MIN_INTERVAL)}'))",
    "message": f"must be whole minutes (e.g. 5m, 1h, 1h30m), at most {format_duration(MAX_MIN_INTERVAL)}",
}


def spec_schema() -> dict[str, Any]:
    raw = SchedulePolicySpec.model_json_schema(by_alias=True)
    schema = _structural(raw, raw.get("$defs", {}))
    _default_empty_objects(schema, SchedulePolicySpec)
    props = schema["properties"]
    props["minInterval"]["x-kubernetes-validations"] = [_DURATION_RULE, _WHOLE_MINUTES]
    selector = props["namespaceSelector"]["properties"]
    selector["matchLabels"]["additionalProperties"] = {"type": "string"}  # a map; dropped by _structural
    selector["matchExpressions"]["items"]["x-kubernetes-validations"] = [_SELECTOR_RULE]
    return schema


def status_schema() -> dict[str, Any]:
    return status_with_conditions(SchedulePolicyStatus)


def policy_crd_manifest() -> dict[str, Any]:
    """The CustomResourceDefinition ``schedulepolicies.sundial.dev`` as a dict."""
    root = {
        "description": "Limits on the Schedules of the namespaces a label selector picks (cluster-scoped; "
        "written by cluster admins): minimum interval, quotas, budgets, allowed workflow types, task queues "
        "and time zones. The strictest of several policies wins; the operator's settings apply where none "
        "sets a limit.",
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec_schema(),
            "status": status_schema(),
        },
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD_NAME},
        "spec": {
            "group": GROUP,
            "names": {"kind": KIND, "listKind": f"{KIND}List", "plural": PLURAL, "singular": SINGULAR,
                      "shortNames": list(SHORT_NAMES), "categories": list(CATEGORIES)},
            "scope": "Cluster",
            "versions": [{"name": VERSION, "served": True, "storage": True, "subresources": {"status": {}},
                          "additionalPrinterColumns": _PRINTER_COLUMNS, "schema": {"openAPIV3Schema": root}}],
        },
    }


def policy_crd_yaml() -> str:
    """The CRD as the YAML committed in ``crds/sundial.dev_schedulepolicies.yaml``."""
    body = yaml.dump(policy_crd_manifest(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return HEADER + body


if __name__ == "__main__":
    print(policy_crd_yaml(), end="")
