"""The generated CRD: committed copy current, structural, described, CEL agreeing with the rules."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sundial.domain.crd import crd_manifest, crd_yaml
from sundial.domain.cron import InvalidCronExpression, parse_cron
from sundial.domain.durations import InvalidDuration, parse_duration
from sundial.domain.models import MAX_JITTER

COMMITTED = Path(__file__).resolve().parents[2] / "crds" / "sundial.dev_schedules.yaml"
VERSION = crd_manifest()["spec"]["versions"][0]
ROOT = VERSION["schema"]["openAPIV3Schema"]
SPEC = ROOT["properties"]["spec"]
STATUS = ROOT["properties"]["status"]


def nodes(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema node with a dotted path ("spec.task.context", "spec.workflow.args[]")."""
    yield path, schema
    for name, child in schema.get("properties", {}).items():
        yield from nodes(child, f"{path}.{name}" if path else name)
    if "items" in schema:
        yield from nodes(schema["items"], f"{path}[]")


def cel_pattern(rule: str) -> re.Pattern[str]:
    """The RE2 pattern inside ``self.matches('...')``, unescaped as CEL would, for Python's re."""
    literal = re.fullmatch(r"self\.matches\('(.*)'\)", rule)
    assert literal is not None, rule
    return re.compile(literal.group(1).replace("\\\\", "\\"), re.ASCII)


def test_the_committed_crd_is_the_generated_one() -> None:
    assert COMMITTED.read_text() == crd_yaml(), "crds/ is stale: run `make crds` and commit the result"


def test_python_dash_m_prints_the_crd() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sundial.domain.crd"], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout == crd_yaml()
    assert yaml.safe_load(result.stdout)["metadata"]["name"] == "schedules.sundial.dev"


def test_names_scope_and_version_are_specs() -> None:
    spec = crd_manifest()["spec"]
    assert spec["group"] == "sundial.dev" and spec["scope"] == "Namespaced"
    assert spec["names"] == {
        "kind": "Schedule",
        "listKind": "ScheduleList",
        "plural": "schedules",
        "singular": "schedule",
        "shortNames": ["sched"],
        "categories": ["sundial"],
    }
    assert (VERSION["name"], VERSION["served"], VERSION["storage"]) == ("v1alpha1", True, True)
    assert VERSION["subresources"] == {"status": {}}


def test_printer_columns_are_specs() -> None:
    columns = [(c["name"].upper(), c["jsonPath"], c["type"]) for c in VERSION["additionalPrinterColumns"]]
    assert columns == [
        ("SCHEDULE", ".spec.schedule", "string"),
        ("TIMEZONE", ".spec.timeZone", "string"),
        ("PHASE", ".status.phase", "string"),
        ("NEXT RUN", ".status.nextRunTime", "string"),
        ("LAST RUN", ".status.lastRunTime", "date"),
        ("RUNS", ".status.runs.total", "integer"),
        ("FAILED", ".status.runs.failed", "integer"),
        ("AGE", ".metadata.creationTimestamp", "date"),
        ("CREATOR", r".metadata.annotations.sundial\.dev/created-by", "string"),
    ]
    assert [c.get("priority", 0) for c in VERSION["additionalPrinterColumns"]] == [0] * 8 + [1]  # -o wide


def test_the_schema_is_structural() -> None:
    forbidden = {"$ref", "$defs", "anyOf", "allOf", "oneOf", "not", "title", "additionalProperties", "const"}
    for path, node in nodes(ROOT):
        assert not forbidden & node.keys(), (path, forbidden & node.keys())
        assert "type" in node or node.get("x-kubernetes-preserve-unknown-fields"), path
        assert node.get("default", 0) is not None, path


def test_unknown_fields_are_kept_only_where_they_are_free_form() -> None:
    kept = {path for path, node in nodes(ROOT) if node.get("x-kubernetes-preserve-unknown-fields")}
    assert kept == {"spec.task.context", "spec.workflow.args[]", "status.kopf"}


def test_every_spec_field_has_a_description() -> None:
    for path, node in nodes(SPEC, "spec"):
        if not path.endswith("[]"):
            assert len(node.get("description", "")) > 10, path


def test_optional_fields_are_nullable_and_required_ones_are_listed() -> None:
    props = SPEC["properties"]
    assert props["startAt"]["nullable"] and props["endAt"]["nullable"] and props["jitter"]["nullable"]
    assert "required" not in SPEC  # schedule or schedules: a CEL rule, exactly one
    assert SPEC["x-kubernetes-validations"][0]["rule"] == "has(self.schedule) != has(self.schedules)"
    assert props["task"]["required"] == ["query"]
    assert STATUS["properties"]["conditions"]["x-kubernetes-list-map-keys"] == ["type"]


def test_defaults_are_specs_and_fit_their_schema() -> None:
    props = SPEC["properties"]
    assert props["timeZone"]["default"] == "UTC"
    assert props["maxBudgetPerRunUSD"]["default"] == 10.0
    assert props["timeoutSeconds"]["default"] == 600
    assert props["policy"]["properties"]["overlap"]["default"] == "Skip"
    assert props["policy"]["properties"]["catchupWindow"]["default"] == "1h"
    python_types: dict[str, tuple[type, ...]] = {
        "string": (str,),
        "integer": (int,),
        "number": (int, float),
        "boolean": (bool,),
        "object": (dict,),
        "array": (list,),
    }
    for path, node in nodes(ROOT):
        if "default" not in node:
            continue
        default = node["default"]
        assert isinstance(default, python_types[node["type"]]), path
        assert "enum" not in node or default in node["enum"], path
        if node["type"] in ("integer", "number"):
            assert node.get("minimum", default) <= default <= node.get("maximum", default), path
        if node["type"] == "string":
            assert node.get("minLength", 0) <= len(str(default)) <= node.get("maxLength", 10**6), path


def test_strings_used_by_cel_rules_are_bounded() -> None:  # keeps the rules' cost estimate within limits
    for path, node in nodes(ROOT):
        for rule in node.get("x-kubernetes-validations", []):
            assert "matches" not in rule["rule"] or node.get("maxLength", 10**6) <= 200, path


def test_display_name_length_is_left_to_the_operator_so_the_refusal_reaches_status() -> None:
    assert "maxLength" not in SPEC["properties"]["displayName"]


CRON_RULE = cel_pattern(SPEC["properties"]["schedule"]["x-kubernetes-validations"][0]["rule"])
DURATION_RULE = cel_pattern(SPEC["properties"]["jitter"]["x-kubernetes-validations"][0]["rule"])


@pytest.mark.parametrize(
    ("text", "shape_ok"),
    [
        ("0 9 * * *", True),
        ("0 25 * * *", True),  # the shape is right; the operator's rules refuse the hour
        ("@daily", True),
        ("@annually", True),
        ("0  9 * * *", True),
        ("0 9 * * * 2027", False),
        ("@every 5m", True),
        ("@every 1h/15m", True),
        ("@every  5m", False),
        (" 0 9 * * *", False),
        ("0 9 * *", False),
    ],
)
def test_the_cron_shape_rule(text: str, shape_ok: bool) -> None:
    assert bool(CRON_RULE.fullmatch(text)) is shape_ok


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789*/,- \t@dailyhourMONFRIjan", max_size=30))
def test_the_cron_shape_rule_never_refuses_what_the_rules_accept(text: str) -> None:
    try:
        parse_cron(text)
    except InvalidCronExpression:
        return
    assert CRON_RULE.fullmatch(text), text


def cel_duration_at_most(text: str, most: timedelta) -> bool:
    """``self == '0' || duration(self) <= duration(most)`` as CEL reads it (Go durations, exact)."""
    if text == "0":
        return True
    unit_seconds: dict[str, Decimal] = {"h": Decimal(3600), "m": Decimal(60), "s": Decimal(1), "ms": Decimal("0.001")}
    total = sum((Decimal(number) * unit_seconds[unit]
                 for number, unit in re.findall(r"([0-9]+(?:\.[0-9]+)?)(ms|h|m|s)", text)), Decimal(0))
    return total <= Decimal(int(most.total_seconds()))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789.hms -x", max_size=12)
       | st.from_regex(r"\A[0-9]{1,12}(\.[0-9]{1,3})?(ms|h|m|s)\Z"))
def test_the_duration_rules_agree_with_parse_duration(text: str) -> None:
    """The syntax rule and the range rule of the CRD accept exactly what parse_duration accepts
    (``12000000001h`` is refused by both, for its length)."""
    jitter_rules = [rule["rule"] for rule in SPEC["properties"]["jitter"]["x-kubernetes-validations"]]
    assert jitter_rules[1].endswith("self == '0' || duration(self) <= duration('168h')")
    try:
        parse_duration(text, MAX_JITTER)
        parsed = True
    except InvalidDuration:
        parsed = False
    assert (bool(DURATION_RULE.fullmatch(text)) and cel_duration_at_most(text, MAX_JITTER)) is parsed, text


def test_numbers_and_dates_have_maxima_in_the_schema() -> None:
    assert SPEC["properties"]["timeoutSeconds"]["maximum"] == 86400
    assert SPEC["properties"]["workflow"]["properties"]["retry"]["properties"]["maximumAttempts"]["maximum"] == 100
    for instant in ("startAt", "endAt"):
        [rule] = SPEC["properties"][instant]["x-kubernetes-validations"]
        assert rule["rule"] == "self >= timestamp('1970-01-01T00:00:00Z') && self < timestamp('2101-01-01T00:00:00Z')"
    catchup = SPEC["properties"]["policy"]["properties"]["catchupWindow"]["x-kubernetes-validations"][1]
    assert "duration(self) >= duration('10s') && duration(self) <= duration('8760h')" in catchup["rule"]


def test_end_at_after_start_at_is_left_to_the_webhook_and_the_reconcile() -> None:
    # the schema runs before admission: a CEL rule would hide the message naming both values
    assert [rule["rule"] for rule in SPEC["x-kubernetes-validations"]] == [
        "has(self.schedule) != has(self.schedules)"]
