"""What Sundial just wrote to Temporal, known without reading the schedule back.

A create or update returns before Temporal has started the schedule; a describe right after
it waits for that (~450 ms under load) and was the largest cost per new schedule. So the
status after a write is built from what was sent: the fingerprint is computed the way the
server will show it (``adapters.temporal_mapping.fingerprint_from_desired``), the remaining
runs under ``spec.maxRuns`` are the count written, and the next run time is the cron walk's
(``domain.cron``, a port of the server's; over every cron and interval) when that is exact: no jitter (Temporal adds a
random delay we cannot know), not paused, and runs left. Otherwise ``nextRunTime`` stays unset
until the next sweep's list entry fills it in (the sweeper refreshes it from every list page).
Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sundial.domain.cron import MAX_YEAR, When, parse_cron, union_fire_times
from sundial.domain.desired import DesiredSchedule


@dataclass(frozen=True)
class WrittenSchedule:
    """A schedule as Sundial wrote it: the parts of a describe the status needs."""

    schedule_id: str
    fingerprint: str  # as a describe will show it: "<listed>.<rest>"
    paused: bool = False
    limited: bool = False  # Temporal's limited actions (spec.maxRuns)
    remaining_actions: int = 0
    end_at: datetime | None = None
    next_action_times: tuple[datetime, ...] = ()

    @property
    def listed_fingerprint(self) -> str:
        return self.fingerprint.partition(".")[0]


def written(schedule_id: str, desired: DesiredSchedule, fingerprint: str, remaining: int | None) -> WrittenSchedule:
    """What was sent; ``remaining`` is the limited-actions count written (None without maxRuns)."""
    return WrittenSchedule(schedule_id=schedule_id, fingerprint=fingerprint, paused=desired.paused,
                           limited=remaining is not None, remaining_actions=remaining or 0, end_at=desired.end_at)


#: How far ahead the walk looks for the next run; a cron that fires less often than this is left to the sweep.
HORIZON = timedelta(days=5 * 366)


def next_run_after_write(desired: DesiredSchedule, sent: WrittenSchedule, now: datetime) -> datetime | None:
    """The next time Temporal will show for what was just written, when the cron walk knows it exactly."""
    if desired.jitter or desired.paused or (sent.limited and sent.remaining_actions <= 0):
        return None
    start = max(now, desired.start_at) if desired.start_at else now
    end = min(start + HORIZON, datetime(MAX_YEAR, 1, 1, tzinfo=UTC))
    if desired.end_at is not None:
        end = min(end, desired.end_at + timedelta(seconds=1))  # Temporal's window includes endAt
    whens: list[When] = [*map(parse_cron, desired.crons), *desired.intervals]
    return next(union_fire_times(whens, ZoneInfo(desired.time_zone), start, end), None)


def with_next_run(desired: DesiredSchedule, sent: WrittenSchedule, now: datetime) -> WrittenSchedule:
    """``sent`` with the next run time the walk knows (none when it cannot know it exactly)."""
    first = next_run_after_write(desired, sent, now)
    return replace(sent, next_action_times=(first,) if first else ())
