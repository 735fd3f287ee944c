"""Warnings for legal but surprising schedules (kubectl prints them; nothing is refused)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from sundial.domain.models import ScheduleSpec
from sundial.domain.warnings import spec_warnings

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def warnings_for(**spec: Any) -> list[str]:
    return spec_warnings(ScheduleSpec.from_body({"task": {"query": "q"}, **spec}), NOW)


def test_a_time_repeated_by_the_fall_back_change_warns_it_runs_twice() -> None:
    assert warnings_for(schedule="30 1 * * *", timeZone="America/New_York") == [
        'spec.schedule: "30 1 * * *" in America/New_York runs twice at 01:30 on 2027-11-07: '
        "that wall-clock time repeats when daylight-saving time ends"]


@pytest.mark.parametrize(("zone", "day"), [("America/New_York", "2027-03-14"), ("Europe/Berlin", "2027-03-28")])
def test_a_time_skipped_by_the_spring_forward_change_warns_it_does_not_run(zone: str, day: str) -> None:
    assert warnings_for(schedule="30 2 * * *", timeZone=zone) == [
        f'spec.schedule: "30 2 * * *" in {zone} does not run at 02:30 on {day}: '
        "that wall-clock time is skipped when daylight-saving time starts"]


def test_east_of_greenwich_a_repeated_time_runs_once_so_no_warning() -> None:
    assert warnings_for(schedule="30 2 * * *", timeZone="Europe/Berlin")[0].startswith(
        'spec.schedule: "30 2 * * *" in Europe/Berlin does not run')  # only the spring warning
    assert len(warnings_for(schedule="30 2 * * *", timeZone="Europe/Berlin")) == 1


@pytest.mark.parametrize(("schedule", "zone"), [("0 9 * * *", "America/New_York"), ("30 1 * * *", "UTC"),
                                                ("30 1 * * *", "Asia/Tokyo"), ("0 9 * * *", "Europe/London")])
def test_times_away_from_any_change_do_not_warn(schedule: str, zone: str) -> None:
    assert warnings_for(schedule=schedule, timeZone=zone) == []


def test_a_day_the_cron_does_not_name_does_not_warn() -> None:
    assert warnings_for(schedule="30 1 * * 1", timeZone="America/New_York") == []  # 2027-11-07 is a Sunday


def test_a_catchup_window_shorter_than_the_interval_warns() -> None:
    assert warnings_for(schedule="0 9 * * *", policy={"catchupWindow": "10m"}) == [
        "spec.policy.catchupWindow: 10m is shorter than the 24 h between runs: a run missed by more than 10m "
        "(Temporal or its workers down) is skipped, not started late"]
    assert warnings_for(schedule="0 * * * *", policy={"catchupWindow": "2h"}) == []


def test_the_default_catchup_window_does_not_warn() -> None:
    assert warnings_for(schedule="0 9 * * *", policy={"catchupWindow": "1h"}) == []


def test_a_total_budget_below_one_runs_budget_warns() -> None:
    assert warnings_for(schedule="0 9 * * *", maxBudgetPerRunUSD=2.0, policy={"maxTotalBudgetUSD": 1.5}) == [
        "spec.policy.maxTotalBudgetUSD: 1.5 is less than one run's budget (spec.maxBudgetPerRunUSD 2.0): "
        "the schedule may pause (BudgetExhausted) after its first run"]
    assert warnings_for(schedule="0 9 * * *", maxBudgetPerRunUSD=2.0, policy={"maxTotalBudgetUSD": 2.0}) == []
