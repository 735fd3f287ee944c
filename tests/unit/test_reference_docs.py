"""docs/reference.md is generated from the code (``make docs``) and must be committed in sync, like crds/."""

from __future__ import annotations

from pathlib import Path

from sundial import reference
from sundial.domain import conditions
from sundial.domain.models import ScheduleSpec
from sundial.domain.status_models import ScheduleStatus
from sundial.settings import SETTINGS

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "reference.md"


def test_the_committed_reference_is_what_make_docs_generates() -> None:
    assert REFERENCE.read_text() == reference.render(), "docs/reference.md is stale: run `make docs`"


def test_every_spec_and_status_field_every_setting_and_condition_constant_is_documented() -> None:
    text = reference.render()
    for model, prefix in ((ScheduleSpec, "spec"), (ScheduleStatus, "status")):
        for name, info in model.model_fields.items():
            assert f"| `{prefix}.{info.alias or name}` |" in text
    for setting in SETTINGS:
        assert f"| `{setting.env}` |" in text
    constants = {v for k, v in vars(conditions).items() if k.isupper() and isinstance(v, str)}
    assert constants <= set(reference.MEANINGS), "give each condition type and reason a meaning in MEANINGS"
    for constant in constants:
        assert f"| `{constant}` | {reference.MEANINGS[constant]} |" in text


def test_nested_fields_are_walked_with_their_defaults_and_limits() -> None:
    text = reference.render()
    assert "| `spec.workflow.retry.maximumAttempts` | integer | `1` | ≥ 1, ≤ 100 |" in text
    assert "| `spec.policy.overlap` | one of `Skip`, `BufferOne`" in text
    assert "| `status.conditions[].type` | string | required | not empty, at most 64 chars |" in text
    assert "| `spec.schedule` | string | — | not empty, at most 200 chars |" in text
    assert "| `spec.schedules` | list of string | — | not empty, at most 10 items |" in text
