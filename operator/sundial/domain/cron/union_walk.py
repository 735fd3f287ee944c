"""Temporal's walk over several specs at once: its ``rawNextTime``, run after run.

The server asks every calendar and interval for its next time after the union's *last run* and
takes the earliest. Away from offset changes that is the merge of each spec's own runs; around
one it is not (a calendar's walk depends on where it starts: ``docs/cron.md``). Used for the
runs themselves (backfill counts, the next run after a write) and by :mod:`.union` for the days
it walks.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sundial.domain.cron.expression import MAX_YEAR, CronExpression
from sundial.domain.cron.gap import _transitions
from sundial.domain.cron.interval import Interval
from sundial.domain.cron.walk import EPOCH_DAY, epoch, next_fire, offset

When = CronExpression | Interval


def union_fire_times(specs: Sequence[When], zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[datetime]:
    """Every run of the union with ``start <= t < end``, in order, once per instant.

    As Temporal's ``rawNextTime`` finds them: each spec's next run after the union's previous one, the
    earliest wins. Not a merge of each spec's own runs: around a DST change a cron's next run depends
    on where the walk starts (see docs/cron.md), and in a union it starts at any spec's run.
    """
    crons = [s for s in specs if isinstance(s, CronExpression)]
    intervals = [s for s in specs if isinstance(s, Interval)]
    walk = _UnionWalk(crons, intervals, zone)
    instant: int | None = -int(-epoch(start) // 1) - 1
    stop = epoch(end)
    while instant is not None:
        instant = walk.next(instant)[0]
        if instant is None or instant >= stop:
            return
        yield datetime.fromtimestamp(instant, UTC)


class _UnionWalk:
    """Temporal's ``rawNextTime`` over crons and intervals: each spec's next run after the union's last one.

    A cron's next run found earlier is reused while no offset change lies near the stretch walked
    (the walk is plain there, so it would find the same run); near a change it is walked again.
    """

    def __init__(self, crons: Sequence[CronExpression], intervals: Sequence[Interval], zone: ZoneInfo,
                 last_year: int = MAX_YEAR) -> None:
        self.crons, self.intervals, self.zone, self.last_year = crons, intervals, zone, last_year
        self.pending: list[tuple[int, int | None]] = [(0, -1)] * len(crons)  # (walked from, next run)
        self.lattices = [(int(i.every.total_seconds()), int(i.offset.total_seconds())) for i in intervals]
        self.changes: list[int] = []
        self.covered = (0, 0)  # the changes listed are those in [low, high)

    def _near_change(self, low: int, high: int) -> bool:
        low, high = low - 7200, high + 7200
        if low < self.covered[0] or high >= self.covered[1]:
            first = datetime.fromtimestamp(max(low, 0), UTC).year - 1
            last = min(datetime.fromtimestamp(high, UTC).year + 2, MAX_YEAR)
            self.changes = [c[0] for c in _transitions(self.zone, first, last)]
            self.covered = (int(datetime(first + 1, 1, 1, tzinfo=UTC).timestamp()),
                            int(datetime(last, 1, 1, tzinfo=UTC).timestamp()))
        at = bisect_left(self.changes, low)
        return at < len(self.changes) and self.changes[at] <= high

    def next(self, after: int) -> tuple[int | None, int]:
        """The union's first run after ``after`` and whose it is (index into crons, then intervals)."""
        found: list[tuple[int, int]] = []
        for i, cron in enumerate(self.crons):
            since, run = self.pending[i]
            if run is None and since <= after:
                continue  # no run left before the calendar's end
            if run is None or run <= after or since > after or self._near_change(since, run):
                run = next_fire(cron, self.zone, after, self.last_year)
                self.pending[i] = (after, run)
            if run is not None:
                found.append((run, i))
        found += [(((after - phase) // every + 1) * every + phase, len(self.crons) + k)
                  for k, (every, phase) in enumerate(self.lattices)]  # Interval.next_after
        best = min(found, default=None)
        return best if best is not None else (None, -1)


def _block_key(crons: tuple[CronExpression, ...], intervals: tuple[Interval, ...], zone: ZoneInfo, day: int,
               end_day: int, start: int, end: int) -> tuple[object, ...]:
    """What the walk through a block depends on: offsets and their changes, which days match (from the
    day before, whose weekday a day starting in a gap is read with), where the intervals stand."""
    changes = tuple((t - start, before, after) for t, before, after in _changes_between(zone, start, end))
    flags = []
    for ordinal in range(day - 1 + EPOCH_DAY, end_day + 2 + EPOCH_DAY):
        when = date.fromordinal(ordinal)
        weekday = (when.weekday() + 1) % 7
        flags.append(tuple((when.day in c.days_of_month, when.month in c.months, weekday in c.days_of_week)
                           for c in crons))
    phases = tuple((start - int(i.offset.total_seconds())) % int(i.every.total_seconds()) for i in intervals)
    return (end - start, offset(zone, start), changes, tuple(flags), phases)


def _changes_between(zone: ZoneInfo, start: int, end: int) -> list[tuple[int, int, int]]:
    year = datetime.fromtimestamp(start, zone).year
    return [c for c in _transitions(zone, year - 1, year + 1) if start <= c[0] < end]
