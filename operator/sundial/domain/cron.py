"""Temporal's cron, parsed and reasoned about without a server.

Temporal does not run classic (Vixie) cron: a time matches only when *all* five fields
match (day-of-month AND day-of-week), and a 6th field would be a year. Validation, run
previews and the minimum-interval rule must use the semantics Temporal will apply, so
this module parses the five fields into sets and ports the server's calendar walk
(``service/worker/scheduler/calendar.go``, ``compiledCalendar.next``) to Python, quirks
included, at minute resolution (Sundial's crons have no seconds field).

Daylight saving time, as Temporal's calendar handles it (and therefore as we do):

* A wall-clock time skipped by a spring-forward change does not run that day (a whole-hour
  gap is skipped; Temporal decides by "is the resolved hour still the hour asked for").
* A wall-clock time repeated by a fall-back change runs in *both* occurrences in zones
  west of Greenwich (``America/*``: 01:30 EDT and 01:30 EST). East of Greenwich (and in
  London) Go's ``time.Date`` resolves a repeated time to its later occurrence, so
  Temporal's walk runs it once, at the earlier or the later occurrence depending on how
  the walk arrives (``30 2 * * *`` in Berlin: 02:30 CET; ``1 * * * *``: 02:01 CEST).
* Where a day starts inside a spring-forward gap (America/Santiago), Temporal checks the
  day of week of a midnight that does not exist, gets the previous day's, and so a
  day-of-week schedule skips that whole day (``0 12 * * 0`` skips that Sunday).

This port reproduces those quirks rather than guessing what Temporal should do.

:func:`minimum_gap` is exact over a full cycle: the plain wall-clock gaps come from the
sets (every matching day of a 28-year Gregorian cycle, the period of weekday/leap-year
alignment in 1901-2099); the real instants within three hours of each of the zone's
offset changes in that span come from the ported walk. Any consecutive pair of runs is
either wholly at one UTC offset (its gap is the wall-clock gap) or touches such a window.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property, lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

SHORTHANDS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MAX_LENGTH = 200
MAX_YEAR = 2100  # Temporal's calendar gives up after this year
HORIZON_YEARS = 28
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august",
                "september", "october", "november", "december")  # fmt: skip
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAY_NAMES = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
# (name, low, high, names accepted for 1-based or 0-based values)
_FIELDS: tuple[tuple[str, int, int, tuple[tuple[str, ...], ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, (_MONTHS, _MONTH_NAMES)),
    ("day-of-week", 0, 7, (_DAYS, _DAY_NAMES)),
)
_SPACE = re.compile(r"[\t\n\f\r ]+")  # RE2's \s, so the CRD's CEL rule agrees
_TOKEN = re.compile(r"[0-9A-Za-z*]+(-[0-9A-Za-z]+)?(/[0-9]+)?")
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_EPOCH_DAY = date(1970, 1, 1).toordinal()
_WINDOW = 3 * 3600  # seconds around an offset change walked with the real calendar


class InvalidCronExpression(ValueError):
    """A schedule string Temporal would refuse, or one that can never fire."""

    def __init__(self, expression: str, detail: str, cron_field: str = "", token: str = ""):
        super().__init__(f'"{expression}": {detail}')
        self.expression = expression
        self.detail = detail
        self.cron_field = cron_field
        self.token = token


@dataclass(frozen=True)
class CronExpression:
    """Five parsed fields; day-of-week is 0-6 with Sunday 0 (a 7 is folded into 0)."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int]
    months: frozenset[int]
    days_of_week: frozenset[int]
    source: str = field(default="", compare=False)
    normalized: str = field(default="", compare=False)
    """The five fields joined by single spaces (shorthands expanded): what to send Temporal."""

    @cached_property
    def times_of_day(self) -> tuple[int, ...]:
        """Minutes after local midnight at which the schedule fires, sorted."""
        return tuple(sorted(h * 60 + m for h in self.hours for m in self.minutes))

    @cached_property
    def sorted_minutes(self) -> tuple[int, ...]:
        return tuple(sorted(self.minutes))

    @cached_property
    def sorted_days_of_month(self) -> tuple[int, ...]:
        return tuple(sorted(self.days_of_month))

    @property
    def every_day(self) -> bool:
        """True when day-of-month, month and day-of-week are all unrestricted."""
        return len(self.days_of_month) == 31 and len(self.months) == 12 and len(self.days_of_week) == 7


def _value(expr: str, name: str, token: str, low: int, high: int, names: tuple[tuple[str, ...], ...]) -> int:
    lowered = token.lower()
    for table in names:
        if lowered in table:
            return table.index(lowered) + (1 if name == "month" else 0)
    if not token.isascii() or not token.isdigit():
        kind = {"month": " or a month name (JAN-DEC)", "day-of-week": " or a day name (SUN-SAT)"}
        kind_text = kind.get(name, "")
        raise InvalidCronExpression(expr, f'{name} "{token}" is not a number{kind_text}', name, token)
    number = int(token) if len(token) <= 9 else high + 1
    if not low <= number <= high:
        raise InvalidCronExpression(expr, f"{name} {token} is out of range {low}-{high}", name, token)
    return number


def _field(expr: str, text: str, spec: tuple[str, int, int, tuple[tuple[str, ...], ...]]) -> frozenset[int]:
    name, low, high, names = spec
    values: set[int] = set()
    for part in text.split(","):
        if not _TOKEN.fullmatch(part):
            raise InvalidCronExpression(expr, f'{name} "{part}" is malformed', name, part)
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text and len(step_text) <= 9 else (1 if not step_text else high + 1)
        if step < 1:
            raise InvalidCronExpression(expr, f'{name} step "/{step_text}" must be at least 1', name, part)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start = _value(expr, name, first, low, high, names)
            end = _value(expr, name, last, low, high, names)
            if end < start:
                raise InvalidCronExpression(expr, f'{name} range "{base}" runs backwards', name, part)
        else:
            start = _value(expr, name, base, low, high, names)
            end = high if step_text else start  # Temporal: "a/n" means a, a+n, ... up to the maximum
        values.update(range(start, end + 1, step))
    if name == "day-of-week" and 7 in values:
        values = (values - {7}) | {0}
    return frozenset(values)


def parse_cron(expression: str) -> CronExpression:
    """Parse a 5-field cron or shorthand; raise :class:`InvalidCronExpression` with the reason."""
    if not isinstance(expression, str):
        raise InvalidCronExpression(str(expression), "is not a string")
    if len(expression) > MAX_LENGTH:
        raise InvalidCronExpression(expression[:40] + "...", f"is longer than {MAX_LENGTH} characters")
    text = _SPACE.sub(" ", expression)
    if not text.strip(" "):
        raise InvalidCronExpression(expression, "is empty; expected 5 fields or a shorthand such as @daily")
    if text != text.strip(" "):
        raise InvalidCronExpression(expression, "has leading or trailing whitespace")
    if text.startswith("@"):
        if text not in SHORTHANDS:
            raise InvalidCronExpression(
                expression, f"unknown shorthand {text}; use one of {', '.join(SHORTHANDS)}", "", text
            )
        normalized = SHORTHANDS[text]
    else:
        normalized = text
    fields = normalized.split(" ")
    if len(fields) != 5:
        hint = (
            " (a 6th field would be a year in Temporal; Sundial does not take one)" if len(fields) < 8 else ""
        )
        raise InvalidCronExpression(
            expression,
            f"has {len(fields)} fields; expected 5: minute hour day-of-month month day-of-week"
            + (hint if len(fields) > 5 else ""),
        )
    minute, hour, dom, month, dow = (
        _field(expression, t, spec) for t, spec in zip(fields, _FIELDS, strict=True)
    )
    cron = CronExpression(minute, hour, dom, month, dow, source=expression, normalized=normalized)
    if not any(_year_days(cron, leap, weekday) for leap in (False, True) for weekday in range(7)):
        raise InvalidCronExpression(
            expression, "never fires: no date matches its day-of-month, month and day-of-week together"
        )
    return cron


# --- calendar -------------------------------------------------------------------------------


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _month_days(month: int, year: int) -> int:
    if month > 12:  # Go's daysInMonth(13) is 30; the walk only needs "day 1 is valid"
        return 30
    return 29 if month == 2 and _leap(year) else _DAYS_IN_MONTH[month - 1]


@lru_cache(maxsize=4096)
def _year_days(cron: CronExpression, leap: bool, jan1_weekday: int) -> tuple[int, ...]:
    """Day-of-year offsets that match, for a year of this kind (weekday: Sunday 0)."""
    offsets: list[int] = []
    start = 0
    for month in range(1, 13):
        length = 29 if month == 2 and leap else _DAYS_IN_MONTH[month - 1]
        if month in cron.months:
            for day in cron.sorted_days_of_month:
                if day > length:
                    break
                if (jan1_weekday + start + day - 1) % 7 in cron.days_of_week:
                    offsets.append(start + day - 1)
        start += length
    return tuple(offsets)


def _matching_days(cron: CronExpression, first_year: int, last_year: int) -> list[int]:
    """Proleptic ordinals of every matching local date in the years given (inclusive)."""
    days: list[int] = []
    for year in range(first_year, last_year + 1):
        jan1 = date(year, 1, 1)
        base = jan1.toordinal()
        days.extend(base + offset for offset in _year_days(cron, _leap(year), (jan1.weekday() + 1) % 7))
    return days


# --- Temporal's calendar walk, ported ------------------------------------------------------------


def _offset(zone: ZoneInfo, instant: int) -> int:
    delta = datetime.fromtimestamp(instant, zone).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def _wall(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> int:
    """Wall-clock fields as seconds since 1970-01-01 00:00 *local*; overflow normalizes."""
    days = date(year, month, 1).toordinal() - _EPOCH_DAY + day - 1
    return days * 86400 + hour * 3600 + minute * 60 + second


def _go_date(zone: ZoneInfo, wall: int) -> int:
    """Go's ``time.Date``: the offset at the wall time read as UTC, corrected once."""
    return wall - _offset(zone, wall - _offset(zone, wall))


def _next_fire(cron: CronExpression, zone: ZoneInfo, after: int, last_year: int = MAX_YEAR) -> int | None:
    """The first run strictly after ``after`` (epoch seconds), as Temporal computes it."""
    local = datetime.fromtimestamp(after, zone)
    y, mo, d, h, m, s = local.year, local.month, local.day, local.hour, local.minute, local.second + 1
    dst = 3600 if datetime.fromtimestamp(after - 3600, zone).hour == h else 0  # in a repeated hour
    any_weekday = len(cron.days_of_week) == 7
    while True:
        if s >= 60:
            m, s = m + 1, 0
        if m >= 60:
            before = _go_date(zone, _wall(y, mo, d, h, 0))
            h, m = h + 1, 0
            if dst == 0 and _go_date(zone, _wall(y, mo, d, h, 0)) - before > 3600:
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
            or (datetime.fromtimestamp(_go_date(zone, _wall(y, mo, d, h, m, s)), zone).weekday() + 1) % 7
            in cron.days_of_week
        ):
            d, h, m, s, dst = d + 1, 0, 0, 0, 0
        elif h not in cron.hours:
            h, m, s, dst = h + 1, 0, 0, 0
        elif m not in cron.minutes:
            later = [x for x in cron.sorted_minutes if x > m]
            m, s = (later[0] if later else 60), 0
        elif s != 0:
            m, s = m + 1, 0
        else:
            instant = _go_date(zone, _wall(y, mo, d, h, m))
            if datetime.fromtimestamp(instant, zone).hour != h:  # a time a spring-forward skipped
                h, m, s = h + 1, 0, 0
                continue
            return instant + dst


def _epoch(moment: datetime) -> float:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone; pass an aware datetime")
    return moment.timestamp()


def fire_times(cron: CronExpression, zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[datetime]:
    """Every run with ``start <= t < end``, in order, as UTC datetimes (Temporal's DST rules)."""
    instant: int | None = -int(-_epoch(start) // 1) - 1
    stop = _epoch(end)
    while instant is not None:
        instant = _next_fire(cron, zone, instant)
        if instant is None or instant >= stop:
            return
        yield datetime.fromtimestamp(instant, UTC)


# --- the smallest gap over a full cycle ----------------------------------------------------------


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
    before = _offset(zone, instant)
    while instant < stop:
        probe = min(instant + 14 * 86400, stop)
        after = _offset(zone, probe)
        if after != before:
            low, high = instant, probe
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if _offset(zone, middle) == before else (low, middle)
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
    instant = _next_fire(cron, zone, start - 1, last_year)
    while instant is not None and instant <= end:
        fires.append(instant)
        instant = _next_fire(cron, zone, instant, last_year)
    return fires


def _window_key(cron: CronExpression, zone: ZoneInfo, window: Window) -> tuple[object, ...]:
    """What the walk through a window depends on: offsets, wall position, matching days."""
    start, end, changes = window
    wall_start, wall_end = start + _offset(zone, start), end + _offset(zone, end)
    flags = []
    for day in range(wall_start // 86400 - 1, wall_end // 86400 + 2):
        when = date.fromordinal(day + _EPOCH_DAY)
        weekday = (when.weekday() + 1) % 7
        flags.append(
            (when.day in cron.days_of_month, when.month in cron.months, weekday in cron.days_of_week)
        )
    relative = tuple((t - start, before, after) for t, before, after in changes)
    return (wall_start % 86400, end - start, relative, tuple(flags))


@lru_cache(maxsize=512)
def _gap(cron: CronExpression, zone: ZoneInfo, first_year: int) -> GapReport:
    last_year = min(first_year + HORIZON_YEARS, MAX_YEAR)
    days = [d - _EPOCH_DAY for d in _matching_days(cron, first_year, last_year)]  # days since 1970
    tods = cron.times_of_day
    windows = _windows(zone, first_year, last_year)
    lows = [(s + _offset(zone, s)) // 60 for s, _, _ in windows]  # in local wall minutes
    highs = [-(-(e + _offset(zone, e)) // 60) for _, e, _ in windows]

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
                    run.insert(0, _go_date(zone, wall * 60))
                break
            k -= 1
        # Walked from the last run, as Temporal walks: it may cross other windows or skip a day.
        following = _next_fire(cron, zone, run[-1] if run else end, last_year)
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
    return _gap(cron, zone, datetime.fromtimestamp(_epoch(now), zone).year)


def minimum_gap(cron: CronExpression, zone: ZoneInfo, now: datetime) -> timedelta | None:
    """The smallest gap between two consecutive runs, DST included; None if it runs < twice."""
    return gap_report(cron, zone, now).gap


def describe_gap(gap: timedelta) -> str:
    """A short human phrase: "5 min", "90 min", "3 h 30 min", "7 days"."""
    minutes = int(gap.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h" + (f" {rest} min" if rest else "")
    days, hours = divmod(hours, 24)
    return f"{days} days" + (f" {hours} h" if hours else "")
