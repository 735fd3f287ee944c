"""The spec rules, one by one: each refusal's reason, field and message, and the quotas."""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sundial.domain.models import ScheduleSpec
from sundial.domain.rules import (
    Limits,
    load_zone,
    namespace_quota_refusal,
    quota_refusal,
    spec_violations,
    user_quota_refusal,
    validate_spec,
    validated_spec,
)
from sundial.errors import SpecInvalid

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BASE: dict[str, Any] = {
    "displayName": "日次サマリー",
    "schedule": "0 9 * * *",
    "timeZone": "Asia/Tokyo",
    "task": {"query": "Generate a daily news digest about AI", "context": {"output_format": "markdown"}},
    "maxBudgetPerRunUSD": 2.0,
}


DEFAULTS = Limits()


def refusal(change: dict[str, Any], limits: Limits = DEFAULTS, now: datetime = NOW) -> SpecInvalid:
    with pytest.raises(SpecInvalid) as caught:
        validated_spec({**BASE, **change}, limits, now)
    return caught.value


@pytest.mark.parametrize(
    ("change", "reason", "field", "message"),
    [
        (
            {"schedule": "0 25 * * *"},
            "InvalidCronExpression",
            "spec.schedule",
            'spec.schedule: "0 25 * * *": hour 25 is out of range 0-23',
        ),
        (
            {"schedule": "0 0 * * * 2027"},
            "InvalidCronExpression",
            "spec.schedule",
            'spec.schedule: "0 0 * * * 2027": has 6 fields',
        ),
        (
            {"schedule": "0 0 30 2 *"},
            "InvalidCronExpression",
            "spec.schedule",
            'spec.schedule: "0 0 30 2 *": never fires',
        ),
        (
            {"schedule": "*/5 * * * *"},
            "IntervalTooShort",
            "spec.schedule",
            'spec.schedule: "*/5 * * * *" runs every 5 min; the minimum interval is 60 min',
        ),
        (
            {"schedule": "0,45 0 * * *"},
            "IntervalTooShort",
            "spec.schedule",
            'spec.schedule: "0,45 0 * * *" has runs only 45 min apart; the minimum interval is 60 min',
        ),
        (
            {"schedule": "0,50 1 * * *", "timeZone": "America/New_York"},
            "IntervalTooShort",
            "spec.schedule",
            'spec.schedule: "0,50 1 * * *" has runs only 10 min apart around daylight-saving changes in '
            "America/New_York; the minimum interval is 60 min",
        ),
        (
            {"timeZone": "Mars/Phobos"},
            "InvalidTimezone",
            "spec.timeZone",
            'spec.timeZone: "Mars/Phobos" is not an IANA time zone name',
        ),
        (
            {"maxBudgetPerRunUSD": 50},
            "BudgetExceeded",
            "spec.maxBudgetPerRunUSD",
            "spec.maxBudgetPerRunUSD: 50.0 is over the operator's cap of 10.0",
        ),
        (
            {"displayName": "x" * 256},
            "InvalidSpec",
            "spec.displayName",
            "spec.displayName: 256 characters; the limit is 255",
        ),
        (
            {"startAt": "2027-02-01T00:00:00Z", "endAt": "2027-02-01T09:00:00+09:00"},
            "InvalidSpec",
            "spec.endAt",
            "spec.endAt: 2027-02-01T00:00:00Z is not after spec.startAt 2027-02-01T00:00:00Z",
        ),
        (
            {"jitter": "30 seconds"},
            "InvalidSpec",
            "spec.jitter",
            'spec.jitter: "30 seconds" is not a duration',
        ),
        (
            {"policy": {"catchupWindow": "1d"}},
            "InvalidSpec",
            "spec.policy.catchupWindow",
            'spec.policy.catchupWindow: "1d" is not a duration',
        ),
        (
            {"workflow": {"args": ["x"]}},
            "InvalidSpec",
            "spec.workflow.args",
            "spec.workflow.args: only allowed when spec.task is absent",
        ),
        (
            {"task": None},
            "InvalidSpec",
            "spec.task",
            "spec.task: required unless spec.workflow.args is given",
        ),
    ],
)
def test_each_rule_refuses_with_its_reason_field_and_a_message_naming_value_and_limit(
    change: dict[str, Any], reason: str, field: str, message: str
) -> None:
    refused = refusal(change)
    assert (refused.reason, refused.field) == (reason, field)
    assert refused.message.startswith(message), refused.message
    assert str(refused) == refused.message


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"displayName": "日" * 255},
        {"schedule": "@hourly"},  # exactly the minimum interval
        {"schedule": "30 1,2 * * *", "timeZone": "America/New_York"},  # 60 min even across DST changes
        {"schedule": "0 9 * * MON-FRI", "timeZone": "Europe/Berlin", "jitter": "30s"},
        {"maxBudgetPerRunUSD": 10.0},  # exactly the cap
        {"maxBudgetPerRunUSD": 0},
        {"task": None, "workflow": {"args": []}},  # a custom workflow (allowed by type) with no args
        {"startAt": "2027-01-01T00:00:00Z", "endAt": "2027-01-01T00:00:01Z"},
        {"timeZone": "America/Argentina/Buenos_Aires"},
    ],
)
def test_a_spec_within_every_rule_passes(change: dict[str, Any]) -> None:
    spec = validated_spec({**BASE, **change}, Limits(), NOW)
    assert spec.schedule == {**BASE, **change}["schedule"]


@pytest.mark.parametrize(
    "now", [datetime(2026, 6, 1, 0, 10, tzinfo=UTC), datetime(2026, 6, 1, 12, 0, tzinfo=UTC)]
)
def test_a_45_minute_gap_is_refused_whatever_the_time_of_the_check(now: datetime) -> None:
    assert refusal({"schedule": "0,45 0 * * *", "timeZone": "UTC"}, now=now).reason == "IntervalTooShort"


@settings(max_examples=30, deadline=None)
@given(st.datetimes(datetime(2000, 1, 1), datetime(2090, 1, 1), timezones=st.just(UTC)))
def test_the_interval_verdict_does_not_depend_on_now(now: datetime) -> None:
    assert refusal({"schedule": "0,45 0 * * *"}, now=now).reason == "IntervalTooShort"
    validated_spec({**BASE, "schedule": "30 1,2 * * *", "timeZone": "America/New_York"}, Limits(), now)


def test_limits_come_from_the_operator() -> None:
    capped = refusal({"maxBudgetPerRunUSD": 2.0}, Limits(max_budget_usd=1.0))
    assert capped.message.endswith("cap of 1.0 (SCHEDULE_MAX_BUDGET_USD)")
    hourly = {**BASE, "schedule": "@hourly"}
    assert refusal(hourly, Limits(min_interval_minutes=120)).message.endswith(
        "the minimum interval is 120 min (SCHEDULE_MIN_INTERVAL_MINS)"
    )
    validated_spec({**BASE, "schedule": "*/5 * * * *"}, Limits(min_interval_minutes=0), NOW)  # 0: rule off


def test_every_violation_is_listed_and_the_first_is_raised() -> None:
    spec = ScheduleSpec.from_body(
        {**BASE, "schedule": "*/5 * * * *", "maxBudgetPerRunUSD": 50, "jitter": "x"}
    )
    assert [p.reason for p in spec_violations(spec, Limits(), NOW)] == [
        "IntervalTooShort",
        "BudgetExceeded",
        "InvalidSpec",
    ]
    with pytest.raises(SpecInvalid) as caught:
        validate_spec(spec, Limits(), NOW)
    assert caught.value.reason == "IntervalTooShort"


@pytest.mark.parametrize(
    "name",
    [
        "Mars/Phobos", "", "Local", "localtime", "asia/tokyo", "/etc/localtime", "../zone",
        # files of a system zone database that are not zone names (issue 10): they loaded before
        "posixrules", "right/UTC", "right/Asia/Tokyo", "posix/Asia/Tokyo", "Factory", "Asia/Tokyo ",
    ],
)
def test_only_real_iana_zones_are_accepted(name: str) -> None:
    with pytest.raises(SpecInvalid) as caught:
        load_zone(name)
    assert caught.value.reason == "InvalidTimezone"


@pytest.mark.parametrize(
    "name", ["UTC", "Asia/Tokyo", "America/New_York", "Etc/GMT+5", "Etc/UTC", "US/Eastern", "Europe/Kiev"]
)
def test_iana_zones_load(name: str) -> None:  # backward-compatible links too: Temporal accepts them
    assert load_zone(name).key == name


def test_tzdata_is_a_declared_dependency() -> None:  # so a slim image without /usr/share/zoneinfo works
    requirements = importlib.metadata.requires("sundial") or []
    assert any(re.match(r"tzdata\b", requirement) for requirement in requirements), requirements


def test_zones_validate_without_a_system_zone_database(tmp_path: Path) -> None:
    checks = (
        "from sundial.domain.rules import load_zone\n"
        "from sundial.errors import SpecInvalid\n"
        "assert str(load_zone('Asia/Tokyo')) == 'Asia/Tokyo'\n"
        "for name in ('posixrules', 'right/UTC', 'Local'):\n"
        "    try:\n"
        "        load_zone(name)\n"
        "    except SpecInvalid as exc:\n"
        "        assert exc.reason == 'InvalidTimezone'\n"
        "    else:\n"
        "        raise AssertionError(name)\n"
        "print('ok')\n"
    )
    env = {**os.environ, "PYTHONTZPATH": str(tmp_path)}  # an empty folder: no system database
    done = subprocess.run([sys.executable, "-c", checks], env=env, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr


# --- quotas --------------------------------------------------------------------------------

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def namespace(count: int) -> list[tuple[str, datetime]]:
    return [(f"s{index:02d}", T0 + timedelta(seconds=index)) for index in range(count)]


def test_the_51st_schedule_in_a_namespace_is_refused() -> None:
    siblings = namespace(51)
    refused = namespace_quota_refusal("team-a", "s50", siblings[50][1], siblings, Limits())
    assert refused is not None
    assert (refused.reason, refused.field) == ("ScheduleLimitReached", "metadata.namespace")
    assert (
        refused.message == "namespace team-a has 51 schedules; the limit is 50 (SCHEDULE_MAX_PER_NAMESPACE)"
    )


def test_the_first_50_keep_their_place_even_when_a_51st_arrives() -> None:
    siblings = namespace(51)
    for name, created in siblings[:50]:
        assert namespace_quota_refusal("team-a", name, created, siblings, Limits()) is None


def test_deleting_an_older_schedule_frees_a_place() -> None:
    siblings = namespace(51)
    remaining = siblings[:10] + siblings[11:]
    assert namespace_quota_refusal("team-a", "s50", siblings[50][1], remaining, Limits()) is None


def test_ties_on_creation_time_are_broken_by_name() -> None:
    same_second = [("b", T0), ("a", T0), ("c", T0)]
    assert quota_refusal("a", T0, same_second, 2, "namespace x", "SETTING") is None
    assert quota_refusal("b", T0, same_second, 2, "namespace x", "SETTING") is None
    assert quota_refusal("c", T0, same_second, 2, "namespace x", "SETTING") is not None


def test_creation_timestamps_may_be_kubernetes_strings() -> None:
    siblings = [("old", "2026-01-01T00:00:00Z"), ("new", "2026-01-02T00:00:00Z")]
    assert quota_refusal("new", "2026-01-02T00:00:00Z", siblings, 1, "namespace x", "S") is not None
    assert quota_refusal("old", "2026-01-01T00:00:00Z", siblings, 1, "namespace x", "S") is None


def test_the_per_user_quota_names_the_user_and_its_setting() -> None:
    siblings = [("team-a/x", T0), ("team-b/x", T0 + timedelta(seconds=1))]
    refused = user_quota_refusal(
        "alice", "team-b/x", T0 + timedelta(seconds=1), siblings, Limits(max_per_user=1)
    )
    assert refused is not None and refused.reason == "ScheduleLimitReached"
    assert refused.message == "user alice has 2 schedules; the limit is 1 (SCHEDULE_MAX_PER_USER)"


def test_a_quota_of_zero_means_no_quota() -> None:
    assert quota_refusal("s50", T0, namespace(60), 0, "namespace x", "S") is None


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(st.text("abc", min_size=1, max_size=3), st.integers(0, 5), min_size=1, max_size=12),
    st.integers(1, 8),
)
def test_exactly_the_newest_beyond_the_limit_are_refused(ages: dict[str, int], limit: int) -> None:
    siblings = [(name, T0 + timedelta(seconds=age)) for name, age in ages.items()]
    refused = {name for name, created in siblings if quota_refusal(name, created, siblings, limit, "ns", "S")}
    order = sorted(siblings, key=lambda sibling: (sibling[1], sibling[0]))
    assert refused == {name for name, _ in order[limit:]}
