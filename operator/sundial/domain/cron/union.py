"""Several specs in one schedule (``spec.schedules``): the runs Temporal makes, and their smallest gap.

Temporal fires at the union of its calendars and intervals, one run per instant (two specs
naming the same second make one run). The minimum-interval rule applies to that union:
``0 * * * *`` and ``5 * * * *`` are each hourly, together 5 minutes apart.

Exact over the same 28-year horizon as :mod:`.gap`. The crons' runs are gathered day by day:
a day at one UTC offset is plain arithmetic on the merged times of the crons matching it
(cached per set of crons); the days around each offset change are walked as Temporal walks
the union (:mod:`.union_walk`). An interval is a lattice in UTC seconds, so its distance to any run is a remainder,
and two intervals' closest runs follow from the gcd of their periods.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from math import gcd
from zoneinfo import ZoneInfo

from sundial.domain.cron.expression import MAX_YEAR, CronExpression
from sundial.domain.cron.gap import HORIZON_YEARS, _matching_days, _transitions
from sundial.domain.cron.interval import Interval
from sundial.domain.cron.union_walk import When, _block_key, _UnionWalk
from sundial.domain.cron.walk import EPOCH_DAY, epoch, go_date, offset

Pair = tuple[int, int, int]  # (gap in seconds, index of one spec, index of the other)
_NEVER: Pair = (10**15, -1, -1)


@dataclass(frozen=True)
class UnionGap:
    """The smallest gap between two consecutive runs of the union, and which two specs make it."""

    gap: timedelta | None  # None when the union runs fewer than twice in the horizon
    first: int = -1  # index (in the list given) of one spec of the closest pair
    second: int = -1  # and of the other (the same index when both runs are one spec's)


def union_gap(specs: Sequence[When], zone: ZoneInfo, now: datetime, *, dst: bool = True) -> UnionGap:
    """The smallest gap of all the specs' runs together over 28 years from ``now``'s year.

    ``dst``: walk the days around each offset change as Temporal does (exact); False reads them
    like any other day (cheaper: for a warning, not for a refusal).
    """
    return _union_gap(tuple(specs), zone, datetime.fromtimestamp(epoch(now), zone).year, dst)


@lru_cache(maxsize=512)  # every reconcile checks the spec again: the answer depends on the year only
def _union_gap(specs: tuple[When, ...], zone: ZoneInfo, first_year: int, dst: bool) -> UnionGap:
    unique = list(dict.fromkeys(specs))  # equal specs make the same runs: count them once
    crons = tuple(s for s in unique if isinstance(s, CronExpression))
    intervals = tuple(s for s in unique if isinstance(s, Interval))
    original = [specs.index(s) for s in (*crons, *intervals)]  # what the indices below are in ``specs``
    best = _NEVER
    fires: list[_Segment] = []
    if crons:
        floor = 1 if intervals else 60  # no two distinct runs are closer: crons run at whole minutes
        best, fires = _cron_union(crons, intervals, zone, first_year, floor, dst)
    for k, interval in enumerate(intervals):
        i = len(crons) + k
        best = min(best, (int(interval.every.total_seconds()), i, i))
        for n, other in enumerate(intervals[k + 1:], i + 1):
            best = min(best, (_lattice_gap(interval, other), i, n))
        seen = _Seen()
        for segment in fires if best[0] > 1 else ():
            gap, owner = segment.distance(interval, seen)
            if owner >= 0 and owner != i:
                best = min(best, (gap, owner, i))
    if best[1] < 0:
        return UnionGap(None)
    first, second = original[best[1]], original[best[2]]
    return UnionGap(timedelta(seconds=best[0]), min(first, second), max(first, second))


def _lattice_gap(a: Interval, b: Interval) -> int:
    """Closest distinct runs of two intervals: their differences are every multiple of gcd plus the offsets'."""
    every_a, every_b = int(a.every.total_seconds()), int(b.every.total_seconds())
    step = gcd(every_a, every_b)
    rest = int((a.offset - b.offset).total_seconds()) % step
    return step if rest == 0 else min(rest, step - rest)


def _circular(x: int, target: int, every: int) -> int:
    distance = (x - target) % every
    return min(distance, every - distance)


@dataclass(frozen=True)
class _Day:
    """The merged runs of the crons matching one kind of day: minutes after midnight with their owner."""

    tods: tuple[int, ...]
    owners: tuple[int, ...]
    inner: Pair  # smallest gap between two runs of the day


def _residues(day: _Day, every: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The day's runs modulo ``every`` seconds, sorted and deduplicated, with their owners."""
    seen: dict[int, int] = {}
    for tod, owner in zip(day.tods, day.owners, strict=True):
        seen.setdefault(tod * 60 % every, owner)
    keys = tuple(sorted(seen))
    return keys, tuple(seen[k] for k in keys)


def _day_kind(crons: tuple[CronExpression, ...], mask: int) -> _Day:
    merged: dict[int, int] = {}
    for i, cron in enumerate(crons):
        if mask >> i & 1:
            for tod in cron.times_of_day:
                merged.setdefault(tod, i)
    tods = tuple(sorted(merged))
    inner = min(((60 * (b - a), merged[a], merged[b]) for a, b in pairwise(tods)),
                default=_NEVER)
    return _Day(tods, tuple(merged[t] for t in tods), inner)


@dataclass
class _Seen:
    """Per interval: each kind of day's runs modulo the interval, and the distances already found."""

    residues: dict[int, tuple[tuple[int, ...], tuple[int, ...]]] = field(default_factory=dict)
    nearest: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Segment:
    """Runs of one day at one offset (``base`` + the day's minutes) or walked instants around a change."""

    first: tuple[int, int]  # (instant, owner)
    last: tuple[int, int]
    inner: Pair
    day: _Day | None = None
    base: int = 0
    walked: tuple[tuple[int, int], ...] = ()

    def distance(self, interval: Interval, cache: _Seen) -> tuple[int, int]:
        """Closest non-zero distance from one of these runs to a run of ``interval``, and that run's owner
        (``cache``: per interval, what a kind of day at a position against the interval gave)."""
        every, phase = int(interval.every.total_seconds()), int(interval.offset.total_seconds())
        if self.day is None:
            found = [(_circular(t, phase, every), o) for t, o in self.walked if (t - phase) % every]
            return min(found, default=(0, -1))
        target = (phase - self.base) % every
        key = (id(self.day), target)
        if key not in cache.nearest:
            if id(self.day) not in cache.residues:
                cache.residues[id(self.day)] = _residues(self.day, every)
            keys, owners = cache.residues[id(self.day)]
            at = bisect_left(keys, target)
            found = [(_circular(keys[k % len(keys)], target, every), owners[k % len(keys)])
                     for k in (at - 1, at, at + 1) if keys[k % len(keys)] != target]
            cache.nearest[key] = min(found, default=(0, -1))
        return cache.nearest[key]


def _cron_union(crons: tuple[CronExpression, ...], intervals: tuple[Interval, ...], zone: ZoneInfo,
                first_year: int, floor: int, dst: bool) -> tuple[Pair, list[_Segment]]:
    """The closest consecutive runs of the crons together (indices into ``crons``), and their runs by day
    (with the intervals' runs on the days walked: they change where Temporal's walk starts).

    Days at one offset first (arithmetic); the days around offset changes are walked only while the
    smallest gap found is above ``floor`` (nothing can be closer), so a dense union costs little.
    """
    last_year = min(first_year + HORIZON_YEARS, MAX_YEAR)
    masks: dict[int, int] = {}
    for i, cron in enumerate(crons):
        for day in _matching_days(cron, first_year, last_year):
            masks[day - EPOCH_DAY] = masks.get(day - EPOCH_DAY, 0) | 1 << i
    near: set[int] = set()  # days (since 1970, local) within 3 h of an offset change: walked, not computed
    for instant, before, after in _transitions(zone, first_year, last_year) if dst else ():
        day, into = divmod(instant + before, 86400)
        near.add(day)
        if into < 4 * 3600:  # the walk enters the change's day from the day before (a day may start in a gap)
            near.add(day - 1)
        if instant + after + 4 * 3600 >= (day + 1) * 86400:
            near.add(day + 1)
    segments: list[_Segment] = []
    kinds: dict[int, _Day] = {}
    for day in sorted(masks.keys() - near):
        kind = kinds.get(masks[day]) or kinds.setdefault(masks[day], _day_kind(crons, masks[day]))
        base = day * 86400 - offset(zone, day * 86400 + 43200)
        first, last = kind.tods[0], kind.tods[-1]
        segments.append(_Segment((base + 60 * first, kind.owners[0]), (base + 60 * last, kind.owners[-1]),
                                 kind.inner, kind, base))
    best = _closest(segments)  # any two runs' distance bounds the smallest gap from above
    walked: set[int] = set()
    cache: dict[tuple[object, ...], tuple[tuple[int, int], ...]] = {}
    for day in sorted(masks.keys() & near):
        if best[0] <= floor:
            return best, segments
        if day not in walked:
            block = _walk_block(crons, intervals, zone, day, near, walked, last_year, cache)
            segments.extend(block)
            best = min([best, *(segment.inner for segment in block)])
    segments.sort(key=lambda segment: segment.first)
    return _closest(segments), segments


def _closest(segments: list[_Segment]) -> Pair:
    best = min((s.inner for s in segments), default=_NEVER)
    for a, b in pairwise(segments):
        best = min(best, (b.first[0] - a.last[0], a.last[1], b.first[1]))
    return best


def _walk_block(crons: tuple[CronExpression, ...], intervals: tuple[Interval, ...], zone: ZoneInfo, day: int,
                near: set[int], walked: set[int], last_year: int,
                cache: dict[tuple[object, ...], tuple[tuple[int, int], ...]]) -> list[_Segment]:
    """The runs of a block of consecutive days near offset changes, walked as Temporal walks the union.

    Blocks alike (same offsets and changes at the same moments, the same days matching, the intervals
    at the same phase) walk alike: the walk is cached relative to the block's start, as :mod:`.gap`
    caches its windows.
    """
    end_day = day
    while end_day + 1 in near:
        end_day += 1
    walked.update(range(day, end_day + 1))
    start, end = go_date(zone, day * 86400), go_date(zone, (end_day + 1) * 86400)
    key = _block_key(crons, intervals, zone, day, end_day, start, end)
    if key not in cache or date.fromordinal(end_day + 1 + EPOCH_DAY).year >= last_year:
        runs: list[tuple[int, int]] = []
        walk = _UnionWalk(crons, intervals, zone, last_year)
        instant, owner = walk.next(start - 1)
        while instant is not None and instant < end:
            runs.append((instant - start, owner))
            instant, owner = walk.next(instant)
        cache[key] = tuple(runs)
    found = tuple((start + t, owner) for t, owner in cache[key])
    if not found:
        return []
    inner = min(((b[0] - a[0], a[1], b[1]) for a, b in pairwise(found)), default=_NEVER)
    return [_Segment(found[0], found[-1], inner, walked=found)]
