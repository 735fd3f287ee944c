"""The rules on when a schedule runs: ``spec.schedule`` or ``spec.schedules``, and the minimum interval.

Each entry is a cron (Temporal's semantics, :mod:`sundial.domain.cron`) or an ``@every``
interval. The minimum interval (SCHEDULE_MIN_INTERVAL_MINS) applies to each entry on its own
and then to their union: two hourly crons five minutes apart are refused, naming both.
Every refusal names its field (``spec.schedule``, ``spec.schedules[1]``), the value and the limit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sundial.domain.cron import (
    CronExpression,
    GapReport,
    Interval,
    InvalidCronExpression,
    When,
    describe_gap,
    gap_report,
    is_interval,
    parse_cron,
    parse_interval,
    union_gap,
)
from sundial.domain.durations import format_duration
from sundial.domain.models import ScheduleSpec
from sundial.errors import SpecInvalid

TOO_SHORT = "IntervalTooShort"


def parse_when(text: str) -> When:
    """A cron or an ``@every`` interval; InvalidCronExpression with the reason."""
    return parse_interval(text) if is_interval(text) else parse_cron(text)


def spec_whens(spec: ScheduleSpec) -> list[When]:
    """Every cron and interval of a spec that passed the rules (raises InvalidCronExpression otherwise)."""
    return [parse_when(text) for _, text in spec.whens]


def parsed_whens(spec: ScheduleSpec) -> tuple[list[When] | None, list[SpecInvalid]]:
    """Every entry parsed (None when one does not parse), and the problems: exactly one of the two fields."""
    if (spec.schedule is None) == (spec.schedules is None):
        which = "both are set" if spec.schedule is not None else "neither is set"
        field = "spec.schedules" if spec.schedule is not None else "spec.schedule"
        return None, [SpecInvalid("InvalidSpec", field,
                                  f"{field}: exactly one of spec.schedule and spec.schedules is required; {which}")]
    whens: list[When] = []
    problems: list[SpecInvalid] = []
    for field, text in spec.whens:
        try:
            whens.append(parse_when(text))
        except InvalidCronExpression as exc:
            problems.append(SpecInvalid("InvalidCronExpression", field, f"{field}: {exc}"))
    return (None if problems else whens), problems


def interval_problems(spec: ScheduleSpec, whens: list[When], zone: ZoneInfo, minimum_minutes: int, now: datetime,
                      jitter: timedelta, source: str = "") -> list[SpecInvalid]:
    """Each entry's smallest gap, then the union's, less the jitter, must reach the minimum interval
    (``source``: who set it, named in the message when given)."""
    if minimum_minutes <= 0:
        return []
    minimum = f"the minimum interval is {minimum_minutes} min" + (f" ({source})" if source else "")
    fields = [(field, text) for field, text in spec.whens]
    problems = []
    for (field, text), when in zip(fields, whens, strict=True):
        report = gap_report(when, zone, now) if isinstance(when, CronExpression) else _interval_report(when)
        problem = _own_problem(field, text, report, zone, minimum_minutes, jitter, minimum)
        problems.extend([problem] if problem else [])
    if problems or len(whens) < 2:
        return problems
    together = union_gap(whens, zone, now)
    limit = timedelta(minutes=minimum_minutes)
    if together.gap is None or together.gap - jitter >= limit:
        return []
    (first, first_text), (second, second_text) = fields[together.first], fields[together.second]
    apart = f'{second}: "{second_text}" and {first} "{first_text}" together have runs only ' \
            f"{describe_gap(together.gap)} apart"
    if together.gap >= limit:
        closest = describe_gap(max(together.gap - jitter, timedelta(0)))
        return [SpecInvalid(TOO_SHORT, "spec.jitter", f"spec.jitter: {apart}, and a jitter of "
                            f"{format_duration(jitter)} can bring two runs {closest} apart; {minimum}")]
    return [SpecInvalid(TOO_SHORT, second, f"{apart}; {minimum}")]


def _interval_report(interval: Interval) -> GapReport:
    return GapReport(interval.every, uniform=True)


def _own_problem(field: str, expression: str, report: GapReport, zone: ZoneInfo, minimum_minutes: int,
                 jitter: timedelta, minimum: str) -> SpecInvalid | None:
    """The smallest gap, less the jitter (one run delayed by all of it, the next by none), must reach the
    minimum interval."""
    limit = timedelta(minutes=minimum_minutes)
    gap = report.gap
    if gap is None or gap - jitter >= limit:
        return None
    if report.uniform:
        how = f"runs every {describe_gap(gap)}"
    elif report.dst:
        how = f"has runs only {describe_gap(gap)} apart around daylight-saving changes in {zone.key}"
    else:
        how = f"has runs only {describe_gap(gap)} apart"
    if gap >= limit:
        closest = describe_gap(max(gap - jitter, timedelta(0)))
        message = (f'spec.jitter: "{expression}" {how}, and a jitter of {format_duration(jitter)} can bring two '
                   f"runs {closest} apart; {minimum}")
        return SpecInvalid(TOO_SHORT, "spec.jitter", message)
    return SpecInvalid(TOO_SHORT, field, f'{field}: "{expression}" {how}; {minimum}')
