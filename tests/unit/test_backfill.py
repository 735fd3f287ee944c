"""Backfill requests: parsing the annotation, counting runs with Temporal's cron, maxRuns and budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sundial.domain.backfill import (
    MAX_RUNS_LIMIT,
    BackfillInvalid,
    make_request,
    parse_request,
    plan_backfill,
    plan_for_resource,
)
from sundial.domain.models import ScheduleSpec

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
T0 = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


def spec(**extra: object) -> ScheduleSpec:
    return ScheduleSpec.model_validate({"schedule": "0 * * * *", "task": {"query": "q"}, **extra})


def test_three_hours_of_an_hourly_schedule_are_three_runs_and_temporal_gets_an_inclusive_end() -> None:
    planned = plan_backfill(make_request(T0, T0 + timedelta(hours=3)), spec(), 0.0, NOW)
    assert planned.runs == (T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    assert (planned.send_start, planned.send_end) == (T0, T0 + timedelta(hours=3) - timedelta(milliseconds=1))
    assert planned.overlap == "AllowAll"


def test_the_encoded_request_parses_back_to_itself() -> None:
    request = make_request(T0, T0 + timedelta(hours=1), "BufferAll", 7, "tok")
    assert parse_request(request.encode()) == request


def test_a_range_over_max_runs_is_refused_naming_the_limit() -> None:
    with pytest.raises(BackfillInvalid, match=r"more than 2 runs \(maxRuns 2\)"):
        plan_backfill(make_request(T0, T0 + timedelta(hours=3), max_runs=2), spec(), 0.0, NOW)


def test_counting_stops_past_max_runs_so_a_century_of_minutes_is_not_walked() -> None:
    request = make_request(datetime(1926, 1, 1, tzinfo=UTC), NOW, max_runs=5)
    with pytest.raises(BackfillInvalid, match="more than 5 runs"):
        plan_backfill(request, spec(schedule="* * * * *"), 0.0, NOW)


def test_a_range_over_the_remaining_budget_is_refused_with_the_figures() -> None:
    budget = spec(maxBudgetPerRunUSD=1.0, policy={"maxTotalBudgetUSD": 10.0})
    with pytest.raises(BackfillInvalid, match=r"3 runs at maxBudgetPerRunUSD 1 may cost \$3.00; the remaining "
                                              r"budget is \$2.50"):
        plan_backfill(make_request(T0, T0 + timedelta(hours=3)), budget, 7.5, NOW)
    assert len(plan_backfill(make_request(T0, T0 + timedelta(hours=3)), budget, 7.0, NOW).runs) == 3


def test_the_range_is_clipped_to_start_at_and_end_at() -> None:
    clipped = spec(startAt="2026-12-01T01:00:00Z", endAt="2026-12-01T02:30:00Z")
    assert plan_backfill(make_request(T0, T0 + timedelta(hours=5)), clipped, 0.0, NOW).runs == (
        T0 + timedelta(hours=1), T0 + timedelta(hours=2))


def test_a_range_with_no_fire_time_starts_nothing() -> None:
    daily = spec(schedule="0 9 * * *")
    assert plan_backfill(make_request(T0, T0 + timedelta(hours=3)), daily, 0.0, NOW).runs == ()


@pytest.mark.parametrize(("value", "message"), [
    ("2026-12-01T00:00:00Z/2026-12-01T03:00:00Z", "not a JSON object"),
    ('{"from": "2026-12-01T00:00:00Z"}', "to is None"),
    ('{"from": "yesterday", "to": "2026-12-01T03:00:00Z"}', "from 'yesterday' is not an RFC 3339 time"),
    ('{"from": "2026-12-01T00:00:00", "to": "2026-12-01T03:00:00Z"}', "has no time zone"),
    ('{"from": "2026-12-01T03:00:00Z", "to": "2026-12-01T00:00:00Z"}', "is not before to"),
    ('{"from": "2026-12-01T00:00:00Z", "to": "2026-12-01T03:00:00Z", "overlap": "Sometimes"}',
     "overlap 'Sometimes' is not one of Skip"),
    ('{"from": "2026-12-01T00:00:00Z", "to": "2026-12-01T03:00:00Z", "maxRuns": 1000000}',
     f"maxRuns 1000000 is not a whole number from 1 to {MAX_RUNS_LIMIT}"),
    ('{"from": "2026-12-01T00:00:00Z", "to": "2026-12-01T03:00:00Z", "maxRuns": true}', "maxRuns True"),
    ('{"from": "2026-12-01T00:00:00Z", "to": "2026-12-01T03:00:00Z", "evil": 1}', "unknown field"),
    ("{" + " " * 2000 + "}", "the limit is 1000"),
])
def test_bad_annotation_values_are_refused_naming_the_field(value: str, message: str) -> None:
    with pytest.raises(BackfillInvalid, match=message):
        parse_request(value)


def test_a_range_reaching_into_the_future_is_refused() -> None:
    with pytest.raises(BackfillInvalid, match="is in the future"):
        plan_backfill(make_request(T0, NOW + timedelta(minutes=1)), spec(), 0.0, NOW)


def test_a_schedule_not_synced_or_invalid_is_refused() -> None:
    request = make_request(T0, T0 + timedelta(hours=1))
    body = {"spec": {"schedule": "0 * * * *", "task": {"query": "q"}}, "status": {"phase": "Invalid"}}
    with pytest.raises(BackfillInvalid, match="the schedule is Invalid"):
        plan_for_resource(request, body, NOW)
    with pytest.raises(BackfillInvalid, match="not synced yet"):
        plan_for_resource(request, {**body, "status": {}}, NOW)
    synced = {**body, "status": {"phase": "Active", "temporal": {"scheduleId": "s"}, "cost": {"totalUSD": 1.5}}}
    assert len(plan_for_resource(request, synced, NOW).runs) == 1


def test_an_automatic_pause_refuses_a_backfill_as_it_refuses_a_trigger() -> None:
    body = {"spec": {"schedule": "0 * * * *", "task": {"query": "q"}},
            "status": {"phase": "Paused", "temporal": {"scheduleId": "s"},
                       "accounting": {"autoPause": {"reason": "ConsecutiveFailures"}}}}
    with pytest.raises(BackfillInvalid, match=r"paused automatically \(ConsecutiveFailures\); `sundial resume`"):
        plan_for_resource(make_request(T0, T0 + timedelta(hours=1)), body, NOW)
