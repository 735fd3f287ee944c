"""The Schedule CustomResourceDefinition, generated from the pydantic models.

One source of truth: the models in :mod:`sundial.domain.models` give the schema, the
defaults and every ``kubectl explain`` text; this module turns their JSON Schema into
Kubernetes' structural OpenAPI subset (``$ref`` inlined, ``anyOf [X, null]`` turned into
``nullable`` X, titles dropped) and adds what only Kubernetes knows: printer columns,
the status subresource and CEL rules for what the schema alone can say (cron shape,
duration syntax, one of ``schedule`` and ``schedules``).

``python -m sundial.domain.crd > crds/sundial.dev_schedules.yaml`` (``make crds``)
writes the committed file; a unit test fails when the two differ.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import yaml
from pydantic import BaseModel

from sundial.domain.cron import SHORTHANDS
from sundial.domain.durations import format_duration
from sundial.domain.models import (
    EARLIEST,
    LATEST,
    MAX_CATCHUP_WINDOW,
    MAX_JITTER,
    MIN_CATCHUP_WINDOW,
    ScheduleSpec,
)
from sundial.domain.status_models import ScheduleStatus

GROUP = "sundial.dev"
VERSION = "v1alpha1"
KIND = "Schedule"
PLURAL = "schedules"
SINGULAR = "schedule"
SHORT_NAMES = ("sched",)
CATEGORIES = ("sundial",)
CRD_NAME = f"{PLURAL}.{GROUP}"
HEADER = (
    "# Generated from sundial.domain.models by `python -m sundial.domain.crd` (make crds). Do not edit.\n"
)

_SHORTHAND_ALTERNATIVES = "|".join(name.lstrip("@") for name in SHORTHANDS)
_CRON_RULE = {
    "rule": rf"self.matches('^(@({_SHORTHAND_ALTERNATIVES})|@every [^\\s]+|\\S+(\\s+\\S+){{4}})$')",
    "message": "must be 5 space-separated cron fields (minute hour day-of-month month day-of-week), "
    "an interval such as @every 90m or @every 1h/15m, or one of " + ", ".join(SHORTHANDS),
}
_ONE_OF_RULE = {
    "rule": "has(self.schedule) != has(self.schedules)",
    "message": "exactly one of spec.schedule and spec.schedules is required",
}
_DURATION_RULE = {
    "rule": r"self.matches('^(0|([0-9]+(\\.[0-9]+)?(ms|h|m|s))+)$')",
    "message": "must be a duration such as 30s, 5m or 1h30m (units h, m, s, ms)",
}


def _duration_range(least: timedelta, most: timedelta) -> dict[str, str]:
    """CEL's ``duration()`` reads Go durations as parse_duration does; an overflow is an error, so refused."""
    low, high = format_duration(least), format_duration(most)
    malformed = f"!{_DURATION_RULE['rule']}"  # reported by the syntax rule alone
    if least:
        return {"rule": f"{malformed} || (self != '0' && duration(self) >= duration('{low}') "
                        f"&& duration(self) <= duration('{high}'))", "message": f"must be between {low} and {high}"}
    return {"rule": f"{malformed} || self == '0' || duration(self) <= duration('{high}')",
            "message": f"must be at most {high}"}


def _year_range() -> dict[str, str]:
    first, last = EARLIEST.strftime("%Y-%m-%dT%H:%M:%SZ"), LATEST.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"rule": f"self >= timestamp('{first}') && self < timestamp('{last}')",
            "message": f"must be between the years {EARLIEST.year} and {LATEST.year - 1}"}


# task xor workflow.args is left to the operator's rules: CEL cannot see workflow.args, whose items
# have no type (free-form JSON), so a rule naming it does not compile. endAt after startAt is left to
# them too: the schema runs before the admission webhook, and its message could name neither value, nor
# could a spec refused there ever show the reconcile's Stalled message.
_PRINTER_COLUMNS = [
    {"name": "Schedule", "type": "string", "jsonPath": ".spec.schedule"},
    {"name": "TimeZone", "type": "string", "jsonPath": ".spec.timeZone"},
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
    {
        "name": "Next Run",
        "type": "string",
        "jsonPath": ".status.nextRunTime",
    },  # a date column shows <invalid>
    {"name": "Last Run", "type": "date", "jsonPath": ".status.lastRunTime"},
    {"name": "Runs", "type": "integer", "jsonPath": ".status.runs.total"},
    {"name": "Failed", "type": "integer", "jsonPath": ".status.runs.failed"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    # `kubectl get sched -o wide`: the creator the admission webhook recorded
    {"name": "Creator", "type": "string", "priority": 1, "jsonPath": r".metadata.annotations.sundial\.dev/created-by"},
]
_KEY_ORDER = (
    "description", "type", "format", "nullable", "enum", "default", "minimum", "maximum", "minLength",
    "maxLength", "items", "properties", "required",
)  # fmt: skip


def _structural(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """One JSON Schema node in Kubernetes' structural form (recursively)."""
    node = dict(node)
    if "$ref" in node:
        target = _structural(defs[node.pop("$ref").rsplit("/", 1)[1]], defs)
        return _ordered({**target, **_structural(node, defs)})
    if "anyOf" in node:
        options = [option for option in node.pop("anyOf") if option != {"type": "null"}]
        if len(options) != 1:
            raise ValueError(f"only Optional[X] unions fit a structural schema, not {options}")
        return _ordered({**_structural(options[0], defs), **_structural(node, defs), "nullable": True})
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("title", "$defs") or (key == "default" and value is None):
            continue
        if key == "additionalProperties":
            if value is True and "properties" not in node:  # dict[str, Any]: a free-form object
                out["x-kubernetes-preserve-unknown-fields"] = True
            continue
        if key == "description":
            value = " ".join(value.split())
        elif key == "properties":
            value = {name: _structural(schema, defs) for name, schema in value.items()}
        elif key == "items":
            value = _structural(value, defs) if value else {"x-kubernetes-preserve-unknown-fields": True}
        out[key] = value
    return _ordered(out)


def _ordered(node: dict[str, Any]) -> dict[str, Any]:
    rank = {key: index for index, key in enumerate(_KEY_ORDER)}
    return dict(sorted(node.items(), key=lambda item: rank.get(item[0], len(rank))))


def _default_empty_objects(schema: dict[str, Any], model: Any) -> None:
    """``default: {}`` on object fields the model fills by a factory, so the server applies their defaults."""
    for name, field in model.model_fields.items():
        alias = field.alias or name
        prop = schema["properties"][alias]
        if field.default_factory is not None and prop.get("type") == "object":
            prop["default"] = {}
        annotation = field.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields") and "properties" in prop:
            _default_empty_objects(prop, annotation)
        elif "properties" in prop:  # Optional[Model]
            for arg in getattr(annotation, "__args__", ()):
                if hasattr(arg, "model_fields"):
                    _default_empty_objects(prop, arg)


def spec_schema() -> dict[str, Any]:
    """``spec`` of the CRD: every field described, defaulted and bounded as in the models."""
    raw = ScheduleSpec.model_json_schema(by_alias=True)
    schema = _structural(raw, raw.get("$defs", {}))
    _default_empty_objects(schema, ScheduleSpec)
    props = schema["properties"]
    # The displayName limit is one of the operator's refusals (InvalidSpec, Stalled,
    # a Warning Event); a schema limit would turn it into a bare apply error and hide it from status.
    del props["displayName"]["maxLength"]
    props["schedule"]["x-kubernetes-validations"] = [_CRON_RULE]
    props["schedules"]["items"]["x-kubernetes-validations"] = [_CRON_RULE]
    schema["x-kubernetes-validations"] = [_ONE_OF_RULE]
    props["jitter"]["x-kubernetes-validations"] = [_DURATION_RULE, _duration_range(timedelta(0), MAX_JITTER)]
    props["policy"]["properties"]["catchupWindow"]["x-kubernetes-validations"] = [
        _DURATION_RULE, _duration_range(MIN_CATCHUP_WINDOW, MAX_CATCHUP_WINDOW)]
    for instant in ("startAt", "endAt"):
        props[instant]["x-kubernetes-validations"] = [_year_range()]
    return schema


def status_schema() -> dict[str, Any]:
    """``status`` of the CRD; ``status.kopf`` keeps kopf's own bookkeeping as it comes."""
    return status_with_conditions(ScheduleStatus)


def status_with_conditions(model: type[BaseModel]) -> dict[str, Any]:
    """A status model's structural schema, its ``conditions`` a list keyed by ``type`` (one per type)."""
    raw = model.model_json_schema(by_alias=True)
    schema = _structural(raw, raw.get("$defs", {}))
    conditions = schema["properties"]["conditions"]
    conditions["x-kubernetes-list-type"] = "map"
    conditions["x-kubernetes-list-map-keys"] = ["type"]
    return schema


def crd_manifest() -> dict[str, Any]:
    """The CustomResourceDefinition ``schedules.sundial.dev`` as a dict."""
    root = {
        "description": "A Temporal schedule managed by Sundial: run a workflow (usually an AI agent task) "
        "on a cron schedule in a time zone, within a budget; status shows next and last runs, counts "
        "and cost.",
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec_schema(),
            "status": status_schema(),
        },
        "required": ["spec"],
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD_NAME},
        "spec": {
            "group": GROUP,
            "names": {
                "kind": KIND,
                "listKind": f"{KIND}List",
                "plural": PLURAL,
                "singular": SINGULAR,
                "shortNames": list(SHORT_NAMES),
                "categories": list(CATEGORIES),
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": _PRINTER_COLUMNS,
                    "schema": {"openAPIV3Schema": root},
                }
            ],
        },
    }


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # shared rule dicts are written out, not as &anchors
        return True


def crd_yaml() -> str:
    """The CRD as the YAML committed in ``crds/sundial.dev_schedules.yaml``."""
    body = yaml.dump(crd_manifest(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return HEADER + body


if __name__ == "__main__":
    print(crd_yaml(), end="")
