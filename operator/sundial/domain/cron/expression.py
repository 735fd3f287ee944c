"""What a parsed cron is: five sets of values, and which days of a year they match.

Shared by the parser (a cron that matches no date is refused), the calendar walk and the
gap analysis. See ``docs/cron.md`` for the semantics (Temporal's, not classic cron's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache

MAX_YEAR = 2100  # Temporal's calendar gives up after this year
DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


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
    def sorted_hours(self) -> tuple[int, ...]:
        return tuple(sorted(self.hours))

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


def leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


@lru_cache(maxsize=4096)
def year_days(cron: CronExpression, is_leap: bool, jan1_weekday: int) -> tuple[int, ...]:
    """Day-of-year offsets that match, for a year of this kind (weekday: Sunday 0)."""
    offsets: list[int] = []
    start = 0
    for month in range(1, 13):
        length = 29 if month == 2 and is_leap else DAYS_IN_MONTH[month - 1]
        if month in cron.months:
            for day in cron.sorted_days_of_month:
                if day > length:
                    break
                if (jan1_weekday + start + day - 1) % 7 in cron.days_of_week:
                    offsets.append(start + day - 1)
        start += length
    return tuple(offsets)
