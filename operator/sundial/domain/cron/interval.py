"""Temporal's interval form, ``@every 90m`` or ``@every 90m/15m``, parsed as its server reads it.

Temporal's cron-string parser (``parseCronStringInterval``) takes ``@every <interval>[/<phase>]``:
a run at every ``epoch + n * interval + phase``, counted in whole seconds from the Unix epoch in
UTC, so the schedule's time zone plays no part. Its durations are Go's plus a ``d`` unit (24 h);
the server refuses an interval under one second and a phase that is negative or not shorter than
the interval. Sundial refuses the same, and is stricter where Go's reading would surprise the
writer (signs, fractions of a second, units below a millisecond); see ``docs/cron.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sundial.domain.cron.expression import InvalidCronExpression

PREFIX = "@every"
#: Longest interval or offset: ten years (a longer one never fires twice in a schedule's life).
LONGEST = timedelta(days=3650)
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|d|h|m|s)")
_UNIT = {"d": Decimal(86400), "h": Decimal(3600), "m": Decimal(60), "s": Decimal(1), "ms": Decimal("0.001")}
_HINT = "write a duration such as 90m, 1h30m, 2d or 45s"


@dataclass(frozen=True)
class Interval:
    """Runs at every ``epoch + n * every + offset`` (UTC; zone-independent), Temporal's IntervalSpec."""

    every: timedelta
    offset: timedelta = timedelta(0)

    def next_after(self, instant: int) -> int:
        """The first run strictly after ``instant`` (epoch seconds), Temporal's ``nextIntervalTime``."""
        every, offset = int(self.every.total_seconds()), int(self.offset.total_seconds())
        return ((instant - offset) // every + 1) * every + offset


def is_interval(text: str) -> bool:
    """Whether ``text`` is meant as an interval (it starts with ``@every``, as Temporal decides)."""
    return isinstance(text, str) and text.strip().startswith(PREFIX)


def _seconds(expression: str, what: str, text: str) -> int:
    """A Go-style duration with a ``d`` unit, in whole seconds; InvalidCronExpression naming ``what``."""
    if not text or not text.isascii():
        raise InvalidCronExpression(expression, f"{what} is missing; {_HINT}", what, text)
    if text == "0":
        return 0
    total, position = Decimal(0), 0
    while position < len(text):
        match = _PART.match(text, position)
        if match is None:
            raise InvalidCronExpression(expression, f'{what} "{text[:24]}" is not a duration; {_HINT}', what, text)
        total += Decimal(match.group(1)) * _UNIT[match.group(2)]
        position = match.end()
    if total != total.to_integral_value():
        raise InvalidCronExpression(
            expression, f'{what} "{text}" is not a whole number of seconds (Temporal counts intervals in seconds)',
            what, text)
    if total > Decimal(int(LONGEST.total_seconds())):
        raise InvalidCronExpression(expression, f'{what} "{text}" is longer than the maximum of 3650d', what, text)
    return int(total)


def parse_interval(expression: str) -> Interval:
    """``@every <interval>[/<offset>]``; raise InvalidCronExpression with the reason."""
    text = expression.strip()
    if text != expression:
        raise InvalidCronExpression(expression, "has leading or trailing whitespace")
    rest = text[len(PREFIX):]
    if not rest.startswith(" ") or not rest.strip():
        raise InvalidCronExpression(
            expression, f"an interval is {PREFIX} followed by a space and a duration, e.g. @every 90m or "
            "@every 1h/15m (every hour, 15 minutes past)")
    body = rest[1:]
    if any(c.isspace() for c in body):
        raise InvalidCronExpression(expression, f'"{body[:40]}" has spaces; write @every 90m or @every 90m/15m')
    every_text, slash, offset_text = body.partition("/")
    every = _seconds(expression, "interval", every_text)
    offset = _seconds(expression, "offset", offset_text) if slash else 0
    if every < 1:
        raise InvalidCronExpression(expression, f'interval "{every_text}" must be at least 1s', "interval", every_text)
    if offset >= every:
        raise InvalidCronExpression(
            expression, f'offset "{offset_text}" must be shorter than the interval "{every_text}"', "offset",
            offset_text)
    return Interval(timedelta(seconds=every), timedelta(seconds=offset))


def interval_fire_times(interval: Interval, start: datetime, end: datetime) -> Iterator[datetime]:
    """Every run with ``start <= t < end``, in order, as UTC datetimes."""
    instant = interval.next_after(-int(-start.timestamp() // 1) - 1)
    stop = end.timestamp()
    step = int(interval.every.total_seconds())
    while instant < stop:
        yield datetime.fromtimestamp(instant, UTC)
        instant += step
