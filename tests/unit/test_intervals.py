"""Temporal's ``@every`` intervals and the union of several specs: parsing, runs, and the smallest gap."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from sundial.domain.cron import (
    Interval,
    InvalidCronExpression,
    When,
    interval_fire_times,
    parse_cron,
    parse_interval,
    union_fire_times,
    union_gap,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(("text", "every", "offset"), [
    ("@every 90m", timedelta(minutes=90), timedelta(0)),
    ("@every 1h30m", timedelta(minutes=90), timedelta(0)),
    ("@every 1.5h", timedelta(minutes=90), timedelta(0)),
    ("@every 14h/3h", timedelta(hours=14), timedelta(hours=3)),  # Temporal's own example
    ("@every 1h/15m", timedelta(hours=1), timedelta(minutes=15)),
    ("@every 2d", timedelta(days=2), timedelta(0)),  # Temporal's "d": 24 hours
    ("@every 45s/0", timedelta(seconds=45), timedelta(0)),
    ("@every 1500ms", None, None),
])
def test_intervals_read_as_temporal_reads_them(text: str, every: timedelta | None, offset: timedelta | None) -> None:
    if every is None:
        with pytest.raises(InvalidCronExpression, match="not a whole number of seconds"):
            parse_interval(text)
        return
    assert parse_interval(text) == Interval(every, offset or timedelta(0))


@pytest.mark.parametrize(("text", "message"), [
    ("@every", "an interval is @every followed by a space and a duration"),
    ("@every90m", "an interval is @every followed by a space"),
    ("@every  90m", "has spaces"),
    ("@every 90m 15m", "has spaces"),
    ("@every 90", 'interval "90" is not a duration; write a duration such as 90m'),
    ("@every -5m", 'interval "-5m" is not a duration'),
    ("@every 5x", 'interval "5x" is not a duration'),
    ("@every 0", 'interval "0" must be at least 1s'),
    ("@every 1h/1h", 'offset "1h" must be shorter than the interval "1h"'),
    ("@every 1h/90m", 'offset "90m" must be shorter than the interval "1h"'),
    ("@every 1h/", "offset is missing"),
    ("@every 3651d", 'interval "3651d" is longer than the maximum of 3650d'),
    ("@every 90m ", "leading or trailing whitespace"),
])
def test_bad_intervals_are_refused_saying_why(text: str, message: str) -> None:
    with pytest.raises(InvalidCronExpression) as refused:
        parse_interval(text)
    assert message in str(refused.value) and text.strip() in str(refused.value)


def test_interval_runs_count_from_the_epoch_in_utc_plus_the_offset() -> None:
    runs = list(interval_fire_times(parse_interval("@every 90m/15m"), NOW, NOW + timedelta(hours=5)))
    # 2026-06-01 00:00 UTC is a multiple of 90 min since 1970 (20605 days * 16 per day): 12:15 is the next
    assert [r.strftime("%H:%M") for r in runs] == ["12:15", "13:45", "15:15", "16:45"]
    assert all((r.timestamp() - 900) % 5400 == 0 for r in runs)


def test_the_union_fires_once_per_instant_in_order() -> None:
    specs: list[When] = [parse_cron("0 * * * *"), parse_interval("@every 30m"), parse_cron("0 */2 * * *")]
    runs = list(union_fire_times(specs, UTC_ZONE, NOW, NOW + timedelta(hours=2)))
    assert [r.strftime("%H:%M") for r in runs] == ["12:00", "12:30", "13:00", "13:30"]


def random_specs(seed: int) -> list[str]:
    """Two or three crons and intervals, seeded: hours and minutes lists, steps, weekdays, offsets."""
    pick = random.Random(seed)
    specs = []
    for _ in range(pick.randint(2, 3)):
        if pick.random() < 0.3:
            every = pick.choice([45, 90, 100, 150, 420])
            specs.append(f"@every {every}m/{pick.randrange(every)}m")
        else:
            minutes = ",".join(map(str, sorted(pick.sample(range(60), pick.randint(1, 2)))))
            hours = pick.choice(["*", "*/2", "*/3", "1-5", "0,2,12", "9-17/4"])
            specs.append(f"{minutes} {hours} * * {pick.choice(['*', '1-5', '0,6', '0'])}")
    return specs


def parse(text: str) -> When:
    return parse_interval(text) if text.startswith("@every") else parse_cron(text)


@pytest.mark.parametrize(("texts", "zone", "gap", "pair"), [
    (["0 * * * *", "5 * * * *"], UTC_ZONE, timedelta(minutes=5), (0, 1)),  # each hourly, together 5 min apart
    (["0 9 * * 1-5", "0 12 * * 6,0"], UTC_ZONE, timedelta(hours=21), (0, 1)),  # Sun 12:00 -> Mon 09:00
    (["0 * * * *", "@every 90m"], UTC_ZONE, timedelta(minutes=30), (0, 1)),
    (["@every 90m", "@every 1h/15m"], UTC_ZONE, timedelta(minutes=15), (0, 1)),
    (["@every 2h", "@every 3h"], UTC_ZONE, timedelta(hours=1), (0, 1)),  # they meet at 0 h, 6 h, ...: gcd
    (["0 0 * * *", "@every 1d/23h55m"], UTC_ZONE, timedelta(minutes=5), (0, 1)),
    (["30 1 * * *", "0 3 * * *"], NEW_YORK, timedelta(minutes=30), (0, 1)),  # 90 min, but 30 when clocks spring
    (["0 0 * * *", "@every 1d"], UTC_ZONE, timedelta(days=1), (0, 0)),  # the same instants: one run a day
    (["0 9 * * *", "@every 7h"], ZoneInfo("Asia/Tokyo"), timedelta(hours=1), (0, 1)),  # 09:00 JST drifts by 3 h
])
def test_the_smallest_gap_of_the_union(texts: list[str], zone: ZoneInfo, gap: timedelta,
                                       pair: tuple[int, int]) -> None:
    found = union_gap([parse(t) for t in texts], zone, NOW)
    assert found.gap == gap
    assert (found.first, found.second) == pair or gap == timedelta(days=1)


@pytest.mark.parametrize(("texts", "zone"), [
    (["0 * * * *", "5 * * * *", "@every 50m/7m"], UTC_ZONE),
    (["15 2 * * *", "45 1 * * 0"], NEW_YORK),
    (["0 */3 * * *", "@every 5h/1h"], ZoneInfo("Europe/Berlin")),
    (["0 9 1 * *", "0 8 * * 1"], ZoneInfo("Australia/Lord_Howe")),  # half-hour DST changes
    (["0 23 * * 6", "0 12 * * 0", "30 0 * * 0"], ZoneInfo("America/Santiago")),  # days starting in a gap
    (["0 */3 * * *", "@every 5h/1h", "45 1 * * *"], ZoneInfo("Australia/Lord_Howe")),
    *[(random_specs(seed), ZoneInfo(zone)) for seed, zone in enumerate(
        ["America/New_York", "Europe/Berlin", "America/Santiago", "Asia/Kolkata", "Australia/Adelaide", "UTC"])],
])
def test_the_union_gap_is_the_smallest_gap_between_the_runs_it_names(texts: list[str], zone: ZoneInfo) -> None:
    """A brute-force check over the runs themselves: two years covering every change in the zone."""
    specs = [parse(t) for t in texts]
    runs = list(union_fire_times(specs, zone, NOW, NOW + timedelta(days=730)))
    brute = min(b - a for a, b in pairwise(runs))
    assert union_gap(specs, zone, NOW).gap == brute


def test_in_a_union_each_spec_walks_from_the_union_s_last_run_as_temporal_does() -> None:
    """Santiago's clocks jump at midnight: alone, a Saturday cron also runs on that Sunday (Temporal's walk
    reads the missing midnight as Saturday); in a union whose other spec runs on the Sunday first, it
    does not (Temporal's server agrees: tests/integration/test_interval_specs.py)."""
    zone = ZoneInfo("America/Santiago")
    start, end = datetime(2027, 9, 3, tzinfo=UTC), datetime(2027, 9, 8, tzinfo=UTC)
    saturday = parse_cron("0 23 * * 6")
    alone = [t.astimezone(zone).strftime("%a %H:%M") for t in union_fire_times([saturday], zone, start, end)]
    assert alone == ["Sat 23:00", "Sun 23:00"]
    together = union_fire_times([saturday, parse_cron("15 2 * * *")], zone, start, end)
    assert "Sun 23:00" not in [t.astimezone(zone).strftime("%a %H:%M") for t in together]
