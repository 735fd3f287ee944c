"""A cron as Temporal stores it: the structured calendar its server compiles the text into.

Temporal never keeps cron text: ``cron_expressions`` come back from a describe or a list as
one structured calendar of ``(start, end, step)`` ranges, one per comma-separated part, in
the order written. Sundial fingerprints what the server shows, so to know the fingerprint of
a write without reading the schedule back, it compiles the cron the same way. The rules,
observed on a real server and checked by ``tests/integration/test_fingerprint_corpus.py``:

- ``*`` is the field's whole range; ``a`` is ``(a, a, 1)``; ``a-b/n`` is ``(a, b, n)``;
  ``a/n`` runs to the field's maximum; names are numbers; leading zeros are read away.
- day-of-week: ``7`` is Sunday. A range reaching 7 ends at 6 instead, and when its step
  lands on 7 a ``(0, 0, 1)`` is put in front of it; a range left empty is dropped. The one
  exception is ``0-7`` (and ``*``) step 1, which is simply ``(0, 6, 1)``.
- second is always ``(0, 0, 1)`` (five-field crons), year is empty (every year).

Pure; the input is a cron that ``parse_cron`` accepted.
"""

from __future__ import annotations

from sundial.domain.cron.parse import parse_cron

Range = tuple[int, int, int]
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_LONG_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
                "october", "november", "december")  # fmt: skip
_LONG_DAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
#: (calendar field, low, high, names) in cron order
_FIELDS = (("minute", 0, 59, ()), ("hour", 0, 23, ()), ("day_of_month", 1, 31, ()),
           ("month", 1, 12, (_MONTHS, _LONG_MONTHS)), ("day_of_week", 0, 7, (_DAYS, _LONG_DAYS)))


def _number(token: str, field: str, names: tuple[tuple[str, ...], ...]) -> int:
    for table in names:
        if token.lower() in table:
            return table.index(token.lower()) + (1 if field == "month" else 0)
    return int(token)


def _part(text: str, field: str, low: int, high: int, names: tuple[tuple[str, ...], ...]) -> Range:
    base, _, step_text = text.partition("/")
    step = int(step_text) if step_text else 1
    if base == "*":
        return (low, high, step)
    first, dash, last = base.partition("-")
    start = _number(first, field, names)
    if dash:
        return (start, _number(last, field, names), step)
    return (start, high if step_text else start, step)


def _weekday(start: int, end: int, step: int) -> list[Range]:
    """Temporal's handling of Sunday written as 7 (see the module docstring)."""
    if end < 7:
        return [(start, end, step)]
    if (start, step) == (0, 1):
        return [(0, 6, 1)]
    sunday = [(0, 0, 1)] if (7 - start) % step == 0 else []
    return sunday + ([(start, 6, step)] if start <= 6 else [])


def temporal_calendar(expression: str) -> dict[str, list[Range]]:
    """The ranges of each calendar field the server shows for ``expression`` (second and year too)."""
    fields = parse_cron(expression).normalized.split(" ")  # refuses what Temporal would refuse
    calendar: dict[str, list[Range]] = {"second": [(0, 0, 1)], "year": []}
    for value, (field, low, high, names) in zip(fields, _FIELDS, strict=True):
        ranges = [_part(part, field, low, high, names) for part in value.split(",")]
        if field == "day_of_week":
            ranges = [r for start, end, step in ranges for r in _weekday(start, end, step)]
        calendar[field] = ranges
    return calendar
