"""spec.schedule with intervals and spec.schedules: refusals naming field, value and limit, the union rule,
and what each layer makes of them (translation, the SDK spec, warnings, backfill counts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import ScheduleIntervalSpec

from sundial.adapters.temporal_mapping import build_schedule
from sundial.domain.backfill import make_request, plan_backfill
from sundial.domain.cron import Interval
from sundial.domain.desired import ScheduleIdentity, spec_hash
from sundial.domain.models import ScheduleSpec
from sundial.domain.rules import Limits, spec_violations
from sundial.domain.schedule_metrics import _when
from sundial.domain.translate import WorkflowDefaults, desired_from_spec
from sundial.domain.warnings import spec_warnings
from sundial.errors import SpecInvalid

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
IDENTITY = ScheduleIdentity("c1", "team", "report", "uid-1")


def spec(**change: Any) -> ScheduleSpec:
    body = {"task": {"query": "q"}, **change}
    return ScheduleSpec.from_body({k: v for k, v in body.items() if v is not None})


def problems(limits: Limits | None = None, **change: Any) -> list[SpecInvalid]:
    return spec_violations(spec(**change), limits or Limits(), NOW)


@pytest.mark.parametrize(("change", "reason", "field", "message"), [
    ({"schedule": "@every 30m"}, "IntervalTooShort", "spec.schedule",
     'spec.schedule: "@every 30m" runs every 30 min; the minimum interval is 60 min'),
    ({"schedule": "@every 45s"}, "IntervalTooShort", "spec.schedule",
     'spec.schedule: "@every 45s" runs every 45 s; the minimum interval is 60 min'),
    ({"schedules": ["0 * * * *", "5 * * * *"]}, "IntervalTooShort", "spec.schedules[1]",
     'spec.schedules[1]: "5 * * * *" and spec.schedules[0] "0 * * * *" together have runs only 5 min apart; '
     "the minimum interval is 60 min"),
    ({"schedules": ["@every 90m", "@every 2h/30m"]}, "IntervalTooShort", "spec.schedules[1]",
     'spec.schedules[1]: "@every 2h/30m" and spec.schedules[0] "@every 90m" together have runs only 30 min apart'),
    ({"schedules": ["0 9 * * *", "@every 1h/10m"]}, "IntervalTooShort", "spec.schedules[1]",
     'spec.schedules[1]: "@every 1h/10m" and spec.schedules[0] "0 9 * * *" together have runs only 10 min apart'),
    ({"schedules": ["0 9 * * *", "*/10 * * * *"]}, "IntervalTooShort", "spec.schedules[1]",
     'spec.schedules[1]: "*/10 * * * *" runs every 10 min; the minimum interval is 60 min'),
    ({"schedules": ["0 * * * *", "30 * * * *"], "jitter": "0s"}, "IntervalTooShort", "spec.schedules[1]",
     "together have runs only 30 min apart"),
    ({"schedules": ["0 */2 * * *", "0 1-23/2 * * *"], "jitter": "10m"}, "IntervalTooShort", "spec.jitter",
     "together have runs only 60 min apart, and a jitter of 10m can bring two runs 50 min apart"),
    ({"schedules": ["0 9 * * *", "@every 90"]}, "InvalidCronExpression", "spec.schedules[1]",
     'spec.schedules[1]: "@every 90": interval "90" is not a duration'),
    ({"schedules": ["0 9 * * *", "0 25 * * *"]}, "InvalidCronExpression", "spec.schedules[1]",
     'spec.schedules[1]: "0 25 * * *": hour 25 is out of range 0-23'),
    ({"schedule": "0 9 * * *", "schedules": ["0 10 * * *"]}, "InvalidSpec", "spec.schedules",
     "spec.schedules: exactly one of spec.schedule and spec.schedules is required; both are set"),
    ({}, "InvalidSpec", "spec.schedule",
     "spec.schedule: exactly one of spec.schedule and spec.schedules is required; neither is set"),
])
def test_refusals_name_the_field_the_value_and_the_limit(change: dict[str, Any], reason: str, field: str,
                                                          message: str) -> None:
    found = problems(**change)
    assert (found[0].reason, found[0].field) == (reason, field)
    assert message in found[0].message


def test_at_most_ten_schedules_an_empty_list_is_refused_too() -> None:
    with pytest.raises(SpecInvalid, match=r"spec.schedules: has 11 entries; the limit is 10"):
        spec(schedules=[f"{m} 9 * * *" for m in range(11)])
    with pytest.raises(SpecInvalid, match=r"spec.schedules: has 0 entries; at least 1 needed"):
        spec(schedules=[])


@pytest.mark.parametrize("change", [
    {"schedule": "@every 90m"}, {"schedule": "@every 1h/15m"},
    {"schedules": ["0 9 * * 1-5", "0 12 * * 6,0"]}, {"schedules": ["0 */2 * * *", "@every 2h/1h"]},
    {"schedules": ["0 9 * * *"]},
])
def test_specs_within_the_minimum_pass(change: dict[str, Any]) -> None:
    assert problems(**change) == []


def test_a_minimum_of_zero_turns_the_union_rule_off() -> None:
    assert problems(Limits(min_interval_minutes=0), schedules=["0 * * * *", "1 * * * *", "@every 1s"]) == []


def test_crons_and_intervals_go_to_temporal_separately_and_in_order() -> None:
    desired = desired_from_spec(spec(schedules=["0 9 * * 1-5", "@every 90m/15m", "@hourly"]), IDENTITY,
                                WorkflowDefaults(), "alice", None)
    assert desired.crons == ("0 9 * * 1-5", "@hourly")
    assert desired.intervals == (Interval(timedelta(minutes=90), timedelta(minutes=15)),)
    sdk = build_schedule(desired).spec
    assert sdk.cron_expressions == ["0 9 * * 1-5", "@hourly"]
    assert sdk.intervals == [ScheduleIntervalSpec(every=timedelta(minutes=90), offset=timedelta(minutes=15))]
    alone = build_schedule(desired_from_spec(spec(schedule="@every 90m"), IDENTITY, WorkflowDefaults(), "", None))
    assert (alone.spec.cron_expressions, alone.spec.intervals) == ([], [ScheduleIntervalSpec(timedelta(minutes=90))])


def test_one_cron_hashes_as_before_and_schedules_differ() -> None:
    one = desired_from_spec(spec(schedule="0 9 * * *"), IDENTITY, WorkflowDefaults(), "", None)
    listed = desired_from_spec(spec(schedules=["0 9 * * *"]), IDENTITY, WorkflowDefaults(), "", None)
    assert spec_hash(one) == spec_hash(listed)  # the same Temporal schedule: no update on a rewrite of the spec
    assert spec_hash(one) == "4d77719a37e41cd1"  # what the code before spec.schedules gave (status keeps it)
    two = desired_from_spec(spec(schedules=["0 9 * * *", "0 10 * * *"]), IDENTITY, WorkflowDefaults(), "", None)
    assert spec_hash(two) != spec_hash(one)


def test_dst_warnings_name_the_entry_and_intervals_have_none() -> None:
    found = spec_warnings(spec(schedules=["@every 2h", "30 1 * * *"], timeZone="America/New_York"),
                          datetime(2026, 12, 1, tzinfo=UTC))
    assert found == ['spec.schedules[1]: "30 1 * * *" in America/New_York runs twice at 01:30 on 2027-11-07: '
                     "that wall-clock time repeats when daylight-saving time ends"]


def test_the_catchup_warning_uses_the_union_gap() -> None:
    found = spec_warnings(spec(schedules=["0 * * * *", "@every 1h/30m"], policy={"catchupWindow": "45m"}), NOW)
    assert found == []  # 30 min apart: a 45m window covers it
    found = spec_warnings(spec(schedules=["0 */6 * * *", "@every 6h/3h"], policy={"catchupWindow": "2h"}), NOW)
    assert found and "shorter than the 3 h between runs" in found[0]


def test_backfill_counts_the_runs_of_every_spec_once() -> None:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    planned = plan_backfill(make_request(start, start + timedelta(hours=3)),
                            spec(schedules=["0 * * * *", "@every 90m", "0 */2 * * *"]), 0.0, NOW)
    assert [r.strftime("%H:%M") for r in planned.runs] == ["00:00", "01:00", "01:30", "02:00"]


def test_the_metrics_info_series_shows_every_entry() -> None:
    assert _when({"schedules": ["0 9 * * 1-5", "@every 90m"]}) == "0 9 * * 1-5; @every 90m"
    assert _when({"schedule": "@every 90m"}) == "@every 90m"
    assert _when({"schedules": 7}) == ""  # whatever a body holds, no crash


def test_a_policy_s_minimum_covers_the_union_and_is_named() -> None:
    monitoring = Limits(min_interval_minutes=5, sources=(("min_interval_minutes", 'SchedulePolicy "monitoring"'),))
    assert problems(monitoring, schedules=["*/10 * * * *", "@every 10m/5m"]) == []  # together every 5 min
    (refused,) = problems(monitoring, schedules=["*/5 * * * *", "@every 10m/150s"])
    assert refused.message == ('spec.schedules[1]: "@every 10m/150s" and spec.schedules[0] "*/5 * * * *" together '
                               'have runs only 2 min 30 s apart; the minimum interval is 5 min '
                               '(SchedulePolicy "monitoring")')
