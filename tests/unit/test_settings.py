"""Settings: defaults, overrides, and one clear line for each bad value."""

from __future__ import annotations

from dataclasses import fields

import pytest

from sundial.errors import SettingsError
from sundial.settings import SETTINGS, Settings, load_settings


def test_defaults_match_the_spec() -> None:
    settings = load_settings({})
    assert settings == Settings()
    assert settings.temporal_address == "localhost:7233"
    assert settings.orphan_policy == "pause"  # deleting is an explicit choice
    assert (settings.min_interval_minutes, settings.max_per_namespace, settings.max_budget_usd) == (60, 50, 10.0)


def test_overrides_are_read() -> None:
    settings = load_settings({
        "SUNDIAL_TEMPORAL_ADDRESS": "temporal:7233", "SUNDIAL_ORPHAN_POLICY": "Pause",
        "SCHEDULE_MIN_INTERVAL_MINS": "5", "SCHEDULE_MAX_BUDGET_USD": "2.5", "SUNDIAL_RESYNC_SECONDS": "15",
        "SUNDIAL_RUNS_POLL_SECONDS": "0.5",
    })
    assert settings.temporal_address == "temporal:7233"
    assert settings.orphan_policy == "pause"
    assert settings.min_interval_minutes == 5
    assert settings.max_budget_usd == 2.5
    assert settings.resync_seconds == 15.0
    assert settings.runs_poll_seconds == 0.5


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SUNDIAL_ORPHAN_POLICY": "nuke"}, "SUNDIAL_ORPHAN_POLICY='nuke' is not one of delete, pause, report"),
        ({"SCHEDULE_MIN_INTERVAL_MINS": "soon"}, "SCHEDULE_MIN_INTERVAL_MINS='soon' is not a whole number"),
        ({"SCHEDULE_MAX_PER_NAMESPACE": "0"}, "SCHEDULE_MAX_PER_NAMESPACE='0' must be at least 1"),
        ({"SCHEDULE_MAX_BUDGET_USD": "-1"}, "SCHEDULE_MAX_BUDGET_USD='-1' must be at least 0"),
        ({"SUNDIAL_RUNS_POLL_SECONDS": "fast"}, "SUNDIAL_RUNS_POLL_SECONDS='fast' is not a number"),
        ({"SUNDIAL_RUNS_POLL_SECONDS": "0"}, "SUNDIAL_RUNS_POLL_SECONDS='0' must be at least 0.1"),
        ({"SUNDIAL_SWEEP_PAGE_SIZE": "0"}, "SUNDIAL_SWEEP_PAGE_SIZE='0' must be at least 1"),
        ({"SUNDIAL_FULL_CHECK_SECONDS": "0.5"}, "SUNDIAL_FULL_CHECK_SECONDS='0.5' must be at least 1"),
        ({"SUNDIAL_FULL_CHECK_SECONDS": "hourly"}, "SUNDIAL_FULL_CHECK_SECONDS='hourly' is not a number"),
        ({"SUNDIAL_OVERDUE_GRACE_SECONDS": "soon"}, "SUNDIAL_OVERDUE_GRACE_SECONDS='soon' is not a number"),
        ({"SUNDIAL_TEMPORAL_ADDRESS": "temporal"}, "SUNDIAL_TEMPORAL_ADDRESS='temporal' must be host:port"),
        ({"SUNDIAL_TEMPORAL_NAMESPACE": " "}, "SUNDIAL_TEMPORAL_NAMESPACE is empty"),
        ({"SUNDIAL_TEMPORAL_TLS_CA": "/no/such/ca.pem"}, "SUNDIAL_TEMPORAL_TLS_CA='/no/such/ca.pem': no such file"),
    ],
)
def test_a_bad_value_is_one_line_naming_variable_and_value(env: dict[str, str], expected: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(env)
    assert expected in str(raised.value)
    assert "\n" not in str(raised.value)


def test_every_setting_field_is_read_from_exactly_one_variable() -> None:
    read = [s.field for s in SETTINGS]
    assert sorted(read) == sorted(f.name for f in fields(Settings))
    assert len({s.env for s in SETTINGS}) == len(SETTINGS)


def test_the_api_key_never_shows_in_the_settings_repr() -> None:
    settings = load_settings({"SUNDIAL_TEMPORAL_API_KEY": "sk-very-secret"})
    assert settings.temporal_api_key == "sk-very-secret"
    assert "sk-very-secret" not in repr(settings)


def test_a_min_interval_of_zero_means_no_minimum() -> None:
    """SCHEDULE_MIN_INTERVAL_MINS=0 is accepted at start-up and turns the interval rule off."""
    from datetime import UTC, datetime

    from sundial.domain.models import ScheduleSpec
    from sundial.domain.rules import Limits, spec_violations

    settings = load_settings({"SCHEDULE_MIN_INTERVAL_MINS": "0"})
    assert settings.min_interval_minutes == 0
    spec = ScheduleSpec.from_body({"schedule": "* * * * *", "task": {"query": "q"}})
    limits = Limits(min_interval_minutes=settings.min_interval_minutes)
    assert [p.reason for p in spec_violations(spec, limits, datetime(2026, 1, 1, tzinfo=UTC))] == []
    with pytest.raises(SettingsError, match="SCHEDULE_MIN_INTERVAL_MINS='-1' must be at least 0"):
        load_settings({"SCHEDULE_MIN_INTERVAL_MINS": "-1"})


def test_the_full_check_period_defaults_to_an_hour_and_is_read() -> None:
    assert load_settings({}).full_check_seconds == 3600.0
    assert load_settings({"SUNDIAL_FULL_CHECK_SECONDS": "120"}).full_check_seconds == 120.0
