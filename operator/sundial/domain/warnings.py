"""Legal but surprising schedules: what the admission webhook returns as warnings (kubectl prints them).

Nothing here refuses anything. Three surprises, each a sentence naming the field:

* a wall-clock time that a daylight-saving change in the schedule's zone skips or repeats:
  the next date it does not run, or runs twice, under Temporal's DST rules (``domain.cron``);
* a ``policy.catchupWindow`` shorter than the interval between runs;
* a ``policy.maxTotalBudgetUSD`` smaller than one run's budget.

Pure: ``now`` is a parameter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sundial.domain.cron import (
    CronExpression,
    InvalidCronExpression,
    When,
    describe_gap,
    fire_times,
    gap_report,
    union_gap,
)
from sundial.domain.durations import InvalidDuration, parse_duration
from sundial.domain.models import PolicySpec, ScheduleSpec
from sundial.domain.schedule_rules import spec_whens

HORIZON_DAYS = 400  # a little over a year: every DST change of the zone comes once


def spec_warnings(spec: ScheduleSpec, now: datetime) -> list[str]:
    """Every warning for a spec that passed the rules (an unparsable cron or zone gives none)."""
    try:
        whens = spec_whens(spec)
        zone = ZoneInfo(spec.time_zone)
    except (InvalidCronExpression, ValueError, OSError):
        return []
    found = []
    for (field, text), when in zip(spec.whens, whens, strict=True):
        if isinstance(when, CronExpression):
            found += dst_warnings(text, when, zone, now, field)
    found += catchup_warnings(spec, whens, zone, now)
    found += budget_warnings(spec)
    return found


def _matches_day(cron: CronExpression, day: date) -> bool:
    """Temporal's day rule: day-of-month AND month AND day-of-week (Sunday 0)."""
    return (day.day in cron.days_of_month and day.month in cron.months
            and (day.isoweekday() % 7) in cron.days_of_week)


@lru_cache(maxsize=256)
def _changes(zone: ZoneInfo, start: date, days: int) -> tuple[date, ...]:
    """Local dates on which the zone's UTC offset changes (between that midnight and the next); cached,
    since the admission webhook asks for the same few zones on every apply."""
    found = []
    offset = datetime.combine(start, time(), zone).utcoffset()
    for n in range(1, days + 1):
        day = start + timedelta(days=n)
        following = datetime.combine(day, time(), zone).utcoffset()
        if following != offset:
            found.append(day - timedelta(days=1))
        offset = following
    return tuple(found)


def dst_warnings(expression: str, cron: CronExpression, zone: ZoneInfo, now: datetime,
                 field: str = "spec.schedule") -> list[str]:
    """The next date a DST change makes the schedule run twice, and the next it skips a run.

    Compares, on each day with an offset change, the runs Temporal makes (``fire_times``) with
    the wall-clock times the cron names for that day.
    """
    twice = skipped = None
    today = now.astimezone(zone).date()
    for day in _changes(zone, today, HORIZON_DAYS):
        if not _matches_day(cron, day):
            continue
        start = datetime.combine(day, time(), zone)
        end = datetime.combine(day + timedelta(days=1), time(), zone)
        walls = Counter(t.astimezone(zone).strftime("%H:%M") for t in fire_times(cron, zone, start, end)
                        if t >= now)
        named = {f"{m // 60:02d}:{m % 60:02d}" for m in cron.times_of_day}
        if twice is None and any(count > 1 for count in walls.values()):
            twice = (day, sorted(wall for wall, count in walls.items() if count > 1))
        if skipped is None and start >= now and named - set(walls):
            skipped = (day, sorted(named - set(walls)))
        if twice and skipped:
            break
    found = []
    if twice:
        found.append(f'{field}: "{expression}" in {zone.key} runs twice at {_times(twice[1])} on '
                     f"{twice[0].isoformat()}: that wall-clock time repeats when daylight-saving time ends")
    if skipped:
        found.append(f'{field}: "{expression}" in {zone.key} does not run at {_times(skipped[1])} on '
                     f"{skipped[0].isoformat()}: that wall-clock time is skipped when daylight-saving time starts")
    return found


def _times(walls: list[str]) -> str:
    return ", ".join(walls[:3]) + (f" (and {len(walls) - 3} more)" if len(walls) > 3 else "")


def catchup_warnings(spec: ScheduleSpec, whens: Sequence[When], zone: ZoneInfo, now: datetime) -> list[str]:
    """A catch-up window shorter than the smallest gap between runs: a run missed by more is lost.

    Only a window someone chose: the default (1h, which the apiserver fills in before admission)
    would put this warning on every daily schedule.
    """
    if spec.policy.catchup_window == PolicySpec.model_fields["catchup_window"].default:
        return []
    try:
        window = parse_duration(spec.policy.catchup_window)
    except InvalidDuration:
        return []
    gap = (gap_report(whens[0], zone, now).gap if len(whens) == 1 and isinstance(whens[0], CronExpression)
           else union_gap(whens, zone, now, dst=False).gap)  # a warning: DST's hour does not matter
    if gap is None or window >= gap:
        return []
    return [f"spec.policy.catchupWindow: {spec.policy.catchup_window} is shorter than the {describe_gap(gap)} "
            f"between runs: a run missed by more than {spec.policy.catchup_window} (Temporal or its workers "
            "down) is skipped, not started late"]


def budget_warnings(spec: ScheduleSpec) -> list[str]:
    """A total budget below one run's budget: the first run may exhaust it and pause the schedule."""
    total = spec.policy.max_total_budget_usd
    if total is None or total >= spec.max_budget_per_run_usd:
        return []
    return [f"spec.policy.maxTotalBudgetUSD: {total} is less than one run's budget (spec.maxBudgetPerRunUSD "
            f"{spec.max_budget_per_run_usd}): the schedule may pause (BudgetExhausted) after its first run"]
