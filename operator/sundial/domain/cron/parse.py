"""Cron text to :class:`CronExpression`, reading every token as Temporal's parser reads it.

Temporal's ``makeRange``/``parseValue`` (``service/worker/scheduler/calendar.go``) read
numbers with Go's ``strconv.Atoi``: the whole number, leading zeros allowed. Sundial refuses
what Temporal refuses, and is stricter where Temporal's reading would surprise the writer;
each difference is listed in ``docs/cron.md``.
"""

from __future__ import annotations

import re

from sundial.domain.cron.expression import CronExpression, InvalidCronExpression, year_days

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
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august",
                "september", "october", "november", "december")  # fmt: skip
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAY_NAMES = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
FieldSpec = tuple[str, int, int, tuple[tuple[str, ...], ...]]
# (name, low, high, names accepted for 1-based or 0-based values)
_FIELDS: tuple[FieldSpec, ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, (_MONTHS, _MONTH_NAMES)),
    ("day-of-week", 0, 7, (_DAYS, _DAY_NAMES)),
)
_SPACE = re.compile(r"[\t\n\f\r ]+")  # RE2's \s, so the CRD's CEL rule agrees
_TOKEN = re.compile(r"[0-9A-Za-z*]+(-[0-9A-Za-z]+)?(/[0-9]+)?")


def _shown(token: str) -> str:
    """A token as quoted in a message: long ones shortened, so a refusal stays readable."""
    return token if len(token) <= 24 else f"{token[:12]}...{token[-6:]} ({len(token)} characters)"


def _value(expr: str, name: str, token: str, low: int, high: int, names: tuple[tuple[str, ...], ...]) -> int:
    lowered = token.lower()
    for table in names:
        if lowered in table:
            return table.index(lowered) + (1 if name == "month" else 0)
    if not token.isascii() or not token.isdigit():
        kind = {"month": " or a month name (JAN-DEC)", "day-of-week": " or a day name (SUN-SAT)"}
        kind_text = kind.get(name, "")
        raise InvalidCronExpression(expr, f'{name} "{_shown(token)}" is not a number{kind_text}', name, token)
    number = int(token)  # the whole number, leading zeros allowed, as Go's strconv.Atoi reads it
    if not low <= number <= high:
        raise InvalidCronExpression(expr, f"{name} {_shown(token)} is out of range {low}-{high}", name, token)
    return number


def _step(expr: str, name: str, part: str, text: str, low: int, high: int) -> int:
    """The step after ``/``, read whole; from 1 to the field's width (60 for minutes).

    Temporal reads the whole number but keeps only its low 32 bits: ``/4294967296`` becomes 0,
    which it takes as 1 (every minute), ``/2147483648`` becomes negative and is refused. A step
    wider than the field can only mean a single value, so Sundial refuses it instead of guessing.
    """
    width = high - low + 1
    step = int(text)
    if step < 1:
        raise InvalidCronExpression(expr, f'{name} step "/{_shown(text)}" must be at least 1', name, part)
    if step > width:
        raise InvalidCronExpression(
            expr,
            f'{name} step "/{_shown(text)}" is larger than the field\'s range {low}-{high}; '
            f"use a step from 1 to {width}",
            name,
            part,
        )
    return step


def _field(expr: str, text: str, spec: FieldSpec) -> frozenset[int]:
    name, low, high, names = spec
    values: set[int] = set()
    for part in text.split(","):
        if not _TOKEN.fullmatch(part):
            raise InvalidCronExpression(expr, f'{name} "{_shown(part)}" is malformed', name, part)
        base, _, step_text = part.partition("/")
        step = _step(expr, name, part, step_text, low, high) if step_text else 1
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
        if name == "day-of-week" and (start, end, step) == (1, 7, 1):
            raise InvalidCronExpression(
                expr,
                f'day-of-week "{part}" would never run on Sunday: Temporal reads 1 to 7 as Monday to '
                "Saturday; write * or 0-6 for every day, 1-6 for Monday to Saturday",
                name,
                part,
            )
        values.update(range(start, end + 1, step))
    if name == "day-of-week" and 7 in values:
        values = (values - {7}) | {0}
    return frozenset(values)


def _can_fire(cron: CronExpression) -> bool:
    """Some date matches: try every kind of year (leap or not, each weekday for January 1)."""
    return any(year_days(cron, is_leap, weekday) for is_leap in (False, True) for weekday in range(7))


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
            f"has {len(fields)} field{'' if len(fields) == 1 else 's'}; expected 5: minute hour day-of-month month "
            "day-of-week"
            + (hint if len(fields) > 5 else ""),
        )
    minute, hour, dom, month, dow = (
        _field(expression, t, spec) for t, spec in zip(fields, _FIELDS, strict=True)
    )
    cron = CronExpression(minute, hour, dom, month, dow, source=expression, normalized=normalized)
    if not _can_fire(cron):
        raise InvalidCronExpression(
            expression, "never fires: no date matches its day-of-month, month and day-of-week together"
        )
    return cron

