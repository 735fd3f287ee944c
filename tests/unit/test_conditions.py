"""Condition types and reasons are named once, in ``domain.conditions``, each with its meaning."""

from __future__ import annotations

from sundial import errors
from sundial.domain import conditions


def test_every_constant_is_a_type_or_a_reason_with_a_one_line_meaning() -> None:
    constants = {v for k, v in vars(conditions).items() if k.isupper() and isinstance(v, str)}
    assert constants == set(conditions.TYPES) | set(conditions.REASONS)
    for name, meaning in conditions.MEANINGS.items():
        assert meaning and "\n" not in meaning and meaning.endswith("."), name


def test_the_reasons_temporal_errors_carry_into_the_status_are_documented() -> None:
    # errors.py imports nothing of the domain, so it spells these itself: they must match
    for error in (errors.TemporalUnavailable, errors.TemporalUnauthorized, errors.TemporalNamespaceNotFound):
        assert error.reason in conditions.REASONS, error.__name__
