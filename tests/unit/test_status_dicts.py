"""operator/sundial/domain/status_dicts.py is generated from the status models (``make crds``) and must be
committed in sync, like crds/ and docs/reference.md: a field renamed in the models then fails mypy."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, get_type_hints

import pytest

from sundial.domain import status_codegen, status_dicts
from sundial.domain.status_models import Phase, ScheduleStatus

COMMITTED = Path(__file__).resolve().parents[2] / status_codegen.TARGET


def test_the_committed_typed_dicts_are_what_make_crds_generates() -> None:
    assert COMMITTED.read_text() == status_codegen.render(), (
        f"{status_codegen.TARGET} is stale: run `make crds` and commit the result")


def test_python_dash_m_prints_the_module() -> None:
    result = subprocess.run([sys.executable, "-m", "sundial.domain.status_codegen"], capture_output=True,
                            text=True, check=True, timeout=60)
    assert result.stdout == status_codegen.render()


def test_every_status_model_has_a_typed_dict_with_its_wire_names_all_optional() -> None:
    for model in status_codegen.models(ScheduleStatus):
        typed = getattr(status_dicts, status_codegen.dict_name(model))
        wire = {info.alias or name for name, info in model.model_fields.items()}
        assert set(typed.__annotations__) == wire, model.__name__
        assert typed.__required_keys__ == frozenset(), f"{model.__name__}: partial statuses and patches type-check"


def test_wire_types_follow_the_json_form() -> None:
    hints = get_type_hints(status_dicts.ScheduleStatusDict)
    assert hints["phase"] == Phase | None  # the model's own Literal
    assert hints["nextRunTime"] == str | None  # times are RFC 3339 strings on the wire
    assert hints["conditions"] == list[status_dicts.ConditionDict]  # tuples in the models, lists in JSON
    assert hints["temporal"] == status_dicts.TemporalRefDict | None
    assert get_type_hints(status_dicts.CostStatusDict)["totalUSD"] is float  # the explicit alias, not totalUsd


def test_a_field_type_the_generator_does_not_know_is_an_error_naming_it() -> None:
    with pytest.raises(TypeError, match="datetime"):
        status_codegen.wire_type(datetime)
    assert status_codegen.wire_type(dict[str, Any]) == "dict[str, Any]"
