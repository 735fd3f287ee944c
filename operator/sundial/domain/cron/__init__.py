"""Temporal's cron, parsed and reasoned about without a server.

Temporal does not run classic (Vixie) cron: a time matches only when *all* five fields match
(day-of-month AND day-of-week). Validation, run previews and the minimum-interval rule must use
the semantics Temporal will apply, so this package parses the five fields as Temporal's parser
does (:mod:`.parse`), ports the server's calendar walk with its daylight-saving quirks
(:mod:`.walk`), and finds the smallest gap between runs over a full cycle (:mod:`.gap`).
Temporal's ``@every`` intervals (:mod:`.interval`) and the union of several specs in one
schedule (:mod:`.union`) are read the same way.
The semantics and the DST behaviour are described in ``docs/cron.md``.
"""

from sundial.domain.cron.expression import MAX_YEAR, CronExpression, InvalidCronExpression
from sundial.domain.cron.gap import HORIZON_YEARS, GapReport, describe_gap, gap_report, minimum_gap
from sundial.domain.cron.interval import Interval, interval_fire_times, is_interval, parse_interval
from sundial.domain.cron.parse import MAX_LENGTH, SHORTHANDS, parse_cron
from sundial.domain.cron.union import UnionGap, union_gap
from sundial.domain.cron.union_walk import When, union_fire_times
from sundial.domain.cron.walk import fire_times

__all__ = [
    "HORIZON_YEARS",
    "MAX_LENGTH",
    "MAX_YEAR",
    "SHORTHANDS",
    "CronExpression",
    "GapReport",
    "Interval",
    "InvalidCronExpression",
    "UnionGap",
    "When",
    "describe_gap",
    "fire_times",
    "gap_report",
    "interval_fire_times",
    "is_interval",
    "minimum_gap",
    "parse_cron",
    "parse_interval",
    "union_fire_times",
    "union_gap",
]
