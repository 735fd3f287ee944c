"""The smallest gap between two consecutive runs over a full cycle, DST included.

Exact over a full cycle: the plain wall-clock gaps come from the sets (every matching day of a
28-year Gregorian cycle, the period of weekday/leap-year alignment in 1901-2099); the real
instants within three hours of each of the zone's offset changes in that span come from the
ported walk. Any consecutive pair of runs is either wholly at one UTC offset (its gap is the
wall-clock gap) or touches such a window.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

from sundial.domain.cron.expression import MAX_YEAR, CronExpression, leap, year_days
from sundial.domain.cron.walk import EPOCH_DAY, epoch, go_date, next_fire, offset

HORIZON_YEARS = 28
_WINDOW = 3 * 3600  # seconds around an offset change walked with the real calendar


def _matching_days(cron: CronExpression, first_year: int, last_year: int) -> list[int]:
    """Proleptic ordinals of every matching local date in the years given (inclusive)."""
    days: list[int] = []
    for year in range(first_year, last_year + 1):
        jan1 = date(year, 1, 1)
        base = jan1.toordinal()
        days.extend(base + offset for offset in year_days(cron, leap(year), (jan1.weekday() + 1) % 7))
    return days


@dataclass(frozen=True)
class GapReport:
    """The smallest gap between two consecutive runs over a full cycle, and its cause."""

    gap: timedelta | None
    """None when the schedule runs fewer than twice in the 28-year horizon."""
    uniform: bool = False
    """Every gap has this length (``*/5 * * * *``), so "runs every ..." is accurate."""
    dst: bool = False
    """Only an offset change (daylight saving time) brings two runs this close."""


@lru_cache(maxsize=256)
def _transitions(zone: ZoneInfo, first_year: int, last_year: int) -> tuple[tuple[int, int, int], ...]:
    """(instant, offset before, offset after) of each change, sampled every 14 days then bisected."""
    instant = int(datetime(first_year, 1, 1, tzinfo=UTC).timestamp()) - 86400
    stop = int(datetime(last_year + 1, 1, 1, tzinfo=UTC).timestamp()) + 86400
    found: list[tuple[int, int, int]] = []
    before = offset(zone, instant)
    while instant < stop:
        probe = min(instant + 14 * 86400, stop)
        after = offset(zone, probe)
        if after != before:
            low, high = instant, probe
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if offset(zone, middle) == before else (low, middle)
            found.append((high, before, after))
        instant, before = probe, after
    return tuple(found)


Window = tuple[int, int, tuple[tuple[int, int, int], ...]]


def _windows(zone: ZoneInfo, first_year: int, last_year: int) -> list[Window]:
    """Real-time ranges [change - 3 h, change + 3 h] with their changes, overlapping ones merged."""
    merged: list[Window] = []
    for change in _transitions(zone, first_year, last_year):
        start, end = change[0] - _WINDOW, change[0] + _WINDOW
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], end, (*merged[-1][2], change))
        else:
            merged.append((start, end, (change,)))
    return merged


def _walk(cron: CronExpression, zone: ZoneInfo, start: int, end: int, last_year: int) -> list[int]:
    """Every run in [start, end], walked from just before ``start``."""
    fires: list[int] = []
    instant = next_fire(cron, zone, start - 1, last_year)
    while instant is not None and instant <= end:
        fires.append(instant)
        instant = next_fire(cron, zone, instant, last_year)
    return fires


def _window_key(cron: CronExpression, zone: ZoneInfo, window: Window) -> tuple[object, ...]:
    """What the walk through a window depends on: offsets, wall position, matching days."""
    start, end, changes = window
    wall_start, wall_end = start + offset(zone, start), end + offset(zone, end)
    flags = []
    for day in range(wall_start // 86400 - 1, wall_end // 86400 + 2):
        when = date.fromordinal(day + EPOCH_DAY)
        weekday = (when.weekday() + 1) % 7
        flags.append(
            (when.day in cron.days_of_month, when.month in cron.months, weekday in cron.days_of_week)
        )
    relative = tuple((t - start, before, after) for t, before, after in changes)
    return (wall_start % 86400, end - start, relative, tuple(flags))


@lru_cache(maxsize=512)
def _gap(cron: CronExpression, zone: ZoneInfo, first_year: int) -> GapReport:
    last_year = min(first_year + HORIZON_YEARS, MAX_YEAR)
    days = [d - EPOCH_DAY for d in _matching_days(cron, first_year, last_year)]  # days since 1970
    tods = cron.times_of_day
    windows = _windows(zone, first_year, last_year)
    lows = [(s + offset(zone, s)) // 60 for s, _, _ in windows]  # in local wall minutes
    highs = [-(-(e + offset(zone, e)) // 60) for _, e, _ in windows]

    def clean(a: int, b: int) -> bool:  # no window touches wall minutes [a, b]
        i = bisect_right(lows, b)
        return i == 0 or highs[i - 1] < a

    never = 10**12
    # 1. Wall-clock gaps of pairs that lie wholly at one offset (and the naive wall-clock minimum).
    best = naive = never
    span = tods[-1] - tods[0]
    if len(tods) > 1:
        naive = min(b - a for a, b in pairwise(tods)) * 60
        if any(clean(d * 1440 + tods[0], d * 1440 + tods[-1]) for d in days):
            best = naive
        for d in days if best == never else ():
            for a, b in pairwise(tods):
                if (b - a) * 60 < best and clean(d * 1440 + a, d * 1440 + b):
                    best = (b - a) * 60
    for d1, d2 in pairwise(days):
        gap = ((d2 - d1) * 1440 - span) * 60
        if gap < naive:
            naive = gap
        if gap < best and clean(d1 * 1440 + tods[-1], d2 * 1440 + tods[0]):
            best = gap
    # 2. Real instants around each offset change, walked as Temporal walks them.
    walked: dict[tuple[object, ...], list[int]] = {}
    for window, low in zip(windows if best > 60 else (), lows, strict=False):
        start, end, _ = window
        key = _window_key(cron, zone, window)
        if key not in walked:
            walked[key] = [t - start for t in _walk(cron, zone, start, end, last_year)]
        run = [start + t for t in walked[key]]
        k = bisect_right(days, (low - 1) // 1440) - 1  # the last run before the window, from the sets
        while k >= 0:
            i = bisect_left(tods, low - days[k] * 1440) - 1
            if i >= 0:
                wall = days[k] * 1440 + tods[i]
                if clean(wall, low - 1):  # else an earlier window's walk covers this pair
                    run.insert(0, go_date(zone, wall * 60))
                break
            k -= 1
        # Walked from the last run, as Temporal walks: it may cross other windows or skip a day.
        following = next_fire(cron, zone, run[-1] if run else end, last_year)
        if following is not None:
            run.append(following)
        best = min([best, *(b - a for a, b in pairwise(run))])
    if best == never:
        return GapReport(None)
    even = len({b - a for a, b in pairwise((*tods, tods[0] + 1440))}) == 1
    return GapReport(
        timedelta(seconds=best), uniform=cron.every_day and even and best == naive, dst=best < naive
    )


def gap_report(cron: CronExpression, zone: ZoneInfo, now: datetime) -> GapReport:
    """The smallest gap between consecutive runs over the 28 years from ``now``'s year."""
    return _gap(cron, zone, datetime.fromtimestamp(epoch(now), zone).year)


def minimum_gap(cron: CronExpression, zone: ZoneInfo, now: datetime) -> timedelta | None:
    """The smallest gap between two consecutive runs, DST included; None if it runs < twice."""
    return gap_report(cron, zone, now).gap


def describe_gap(gap: timedelta) -> str:
    """A short human phrase: "5 min", "90 min", "3 h 30 min", "7 days"."""
    minutes, seconds = divmod(int(gap.total_seconds()), 60)
    if minutes < 120:
        return f"{minutes} min" + (f" {seconds} s" if seconds else "") if minutes else f"{seconds} s"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h" + (f" {rest} min" if rest else "")
    days, hours = divmod(hours, 24)
    return f"{days} days" + (f" {hours} h" if hours else "")
