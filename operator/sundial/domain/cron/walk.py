"""Temporal's calendar walk (``compiledCalendar.next`` in ``calendar.go``), ported.

Kept faithful line by line, quirks included, at minute resolution (Sundial's crons have no
seconds field): the DST behaviour it produces is described in ``docs/cron.md`` and checked
against a real Temporal server by ``tests/integration/test_cron_differential.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sundial.domain.cron.expression import DAYS_IN_MONTH, MAX_YEAR, CronExpression, leap

EPOCH_DAY = date(1970, 1, 1).toordinal()


def offset(zone: ZoneInfo, instant: int) -> int:
    """The zone's UTC offset in seconds at ``instant`` (epoch seconds)."""
    delta = datetime.fromtimestamp(instant, zone).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def _month_days(month: int, year: int) -> int:
    if month > 12:  # Go's daysInMonth(13) is 30; the walk only needs "day 1 is valid"
        return 30
    return 29 if month == 2 and leap(year) else DAYS_IN_MONTH[month - 1]


def _wall(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> int:
    """Wall-clock fields as seconds since 1970-01-01 00:00 *local*; overflow normalizes."""
    days = date(year, month, 1).toordinal() - EPOCH_DAY + day - 1
    return days * 86400 + hour * 3600 + minute * 60 + second


def go_date(zone: ZoneInfo, wall: int) -> int:
    """Go's ``time.Date``: the offset at the wall time read as UTC, corrected once."""
    return wall - offset(zone, wall - offset(zone, wall))


def next_fire(cron: CronExpression, zone: ZoneInfo, after: int, last_year: int = MAX_YEAR) -> int | None:
    """The first run strictly after ``after`` (epoch seconds), as Temporal computes it."""
    local = datetime.fromtimestamp(after, zone)
    y, mo, d, h, m, s = local.year, local.month, local.day, local.hour, local.minute, local.second + 1
    dst = 3600 if datetime.fromtimestamp(after - 3600, zone).hour == h else 0  # in a repeated hour
    any_weekday = len(cron.days_of_week) == 7
    while True:
        if s >= 60:
            m, s = m + 1, 0
        if m >= 60:
            before = go_date(zone, _wall(y, mo, d, h, 0))
            h, m = h + 1, 0
            if dst == 0 and go_date(zone, _wall(y, mo, d, h, 0)) - before > 3600:
                h, dst = h - 1, 3600  # stepped over a repeated hour: walk it again, an hour later
            else:
                dst = 0
        if h >= 24:
            d, h = d + 1, 0
        if d > _month_days(mo, y):
            mo, d = mo + 1, 1
        if mo > 12:
            y, mo = y + 1, 1
        if y > last_year:
            return None
        if mo not in cron.months:
            mo, d, h, m, s, dst = mo + 1, 1, 0, 0, 0, 0
        elif d not in cron.days_of_month or not (
            any_weekday
            or (datetime.fromtimestamp(go_date(zone, _wall(y, mo, d, h, m, s)), zone).weekday() + 1) % 7
            in cron.days_of_week
        ):
            d, h, m, s, dst = d + 1, 0, 0, 0, 0
        else:
            # Go's hour, minute and second loops: they advance without checking the day again
            if h not in cron.hours:
                h, m, s, dst = next((x for x in cron.sorted_hours if x > h), 24), 0, 0, 0
                if h >= 24:
                    continue
            if m not in cron.minutes:
                m, s = next((x for x in cron.sorted_minutes if x > m), 60), 0
                if m >= 60:
                    continue
            if s != 0:
                s = 60
                continue
            instant = go_date(zone, _wall(y, mo, d, h, m))
            if datetime.fromtimestamp(instant, zone).hour != h:  # a time a spring-forward skipped
                h, m, s = h + 1, 0, 0
                continue
            return instant + dst


def epoch(moment: datetime) -> float:
    """Seconds since the epoch of an aware datetime; a naive one is refused (no guessing)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone; pass an aware datetime")
    return moment.timestamp()


def fire_times(cron: CronExpression, zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[datetime]:
    """Every run with ``start <= t < end``, in order, as UTC datetimes (Temporal's DST rules)."""
    instant: int | None = -int(-epoch(start) // 1) - 1
    stop = epoch(end)
    while instant is not None:
        instant = next_fire(cron, zone, instant)
        if instant is None or instant >= stop:
            return
        yield datetime.fromtimestamp(instant, UTC)
