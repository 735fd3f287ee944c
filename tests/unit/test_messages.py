"""Messages echoing user input are printable and short; status and Event messages bounded (issue 10: 10, 11)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from sundial.domain.messages import MESSAGE_LIMIT, bounded, escaped, shown
from sundial.domain.rules import Limits, validated_spec
from sundial.domain.run_records import ClosedRun, RunInfo, run_record
from sundial.domain.status import with_condition
from sundial.errors import SpecInvalid

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BASE: dict[str, Any] = {"schedule": "0 9 * * *", "task": {"query": "q"}}


def refusal(change: dict[str, Any]) -> SpecInvalid:
    with pytest.raises(SpecInvalid) as caught:
        validated_spec({**BASE, **change}, Limits(), NOW)
    return caught.value


def test_escaped_keeps_letters_and_escapes_what_does_not_print() -> None:
    assert escaped("日次 サマリー é") == "日次 サマリー é"
    assert escaped("a\u00a0b\x0bc\u202ed\u200be") == "a\\xa0b\\x0bc\\u202ed\\u200be"


def test_shown_quotes_shortens_and_summarises_huge_numbers() -> None:
    assert shown("x" * 500).endswith('(500 characters)"')
    assert len(shown("x" * 500)) <= 80
    assert shown(10**400) == "a number of about 401 digits"
    assert shown(float("nan")) == "NaN"


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        ({"maxBudgetPerRunUSD": float("nan")}, "spec.maxBudgetPerRunUSD",
         "spec.maxBudgetPerRunUSD: NaN is not a finite number (NaN and infinities are refused)"),
        ({"maxBudgetPerRunUSD": float("inf")}, "spec.maxBudgetPerRunUSD",
         "spec.maxBudgetPerRunUSD: inf is not a finite number (NaN and infinities are refused)"),
        ({"policy": {"maxTotalBudgetUSD": float("-inf")}}, "spec.policy.maxTotalBudgetUSD",
         "spec.policy.maxTotalBudgetUSD: -inf is not a finite number (NaN and infinities are refused)"),
        ({"timeoutSeconds": -(10**400)}, "spec.timeoutSeconds",
         "spec.timeoutSeconds: a number of about 401 digits is below the minimum of 1"),
    ],
)
def test_numbers_that_are_not_finite_or_huge_are_refused_as_such(change: dict[str, Any], field: str,
                                                                   expected: str) -> None:
    problem = refusal(change)
    assert (problem.field, problem.message) == (field, expected)


@pytest.mark.parametrize("schedule", ["0\u00a09 * * *", "0 9 * * *\x0b", "0 9 * * \u202e*", "\x00"])
def test_refusals_escape_non_printing_characters(schedule: str) -> None:
    message = refusal({"schedule": schedule}).message
    assert message.isprintable(), message
    assert message.startswith("spec.schedule: ")


def test_refusals_shorten_long_values() -> None:
    message = refusal({"policy": {"overlap": "Skip" * 10_000}}).message
    assert len(message) <= MESSAGE_LIMIT
    assert "40000 characters" in message


def test_condition_messages_are_bounded() -> None:
    conditions = with_condition([], "Ready", False, "InternalError", "boom\x0b" * 100_000, 1, NOW)
    assert len(conditions[0]["message"]) <= MESSAGE_LIMIT
    assert conditions[0]["message"].isprintable()


def test_recent_run_errors_from_a_worker_are_bounded() -> None:
    info = RunInfo("s", "w", "r", "FAILED", NOW, NOW)
    record = run_record(ClosedRun(info, "FAILED", error="E" * 2_000_000, model="m" * 10_000))
    error, model = record["error"], record["model"]
    assert error is not None and model is not None
    assert len(error) <= MESSAGE_LIMIT
    assert "2000000 characters" in error
    assert len(model) <= 255


def test_bounded_leaves_short_printable_messages_alone() -> None:
    assert bounded("spec.schedule: fine") == "spec.schedule: fine"


def test_one_field_is_one_field() -> None:
    assert refusal({"schedule": "daily"}).message.startswith('spec.schedule: "daily": has 1 field; expected 5')
