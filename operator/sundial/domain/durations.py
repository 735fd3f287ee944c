"""Go-style durations (``1h30m``, ``90s``, ``500ms``), as Temporal and Kubernetes users write them."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|h|m|s)")
_UNIT_SECONDS = {"h": Decimal(3600), "m": Decimal(60), "s": Decimal(1), "ms": Decimal("0.001")}
#: Longer than any field takes (each field has its own, smaller maximum); keeps timedelta in range.
LONGEST = timedelta(days=3650)


class InvalidDuration(ValueError):
    """A duration string that is not Go-style ``1h30m``, ``90s``, ``500ms``, or one out of range."""


def format_duration(value: timedelta) -> str:
    """``168h``, ``10s``, ``1h30m``: the way a user writes a limit."""
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "") + (f"{seconds}s" if seconds else "")
    return text or "0"


def parse_duration(text: str, maximum: timedelta = LONGEST) -> timedelta:
    """Parse a Go-style duration (units h, m, s, ms; e.g. ``1h30m``, ``90s``, ``0``) of at most ``maximum``.

    The sum is exact (decimal), so ``12000000001h`` is refused for its length, never rounded.
    """
    hint = "use a number with a unit (h, m, s, ms), e.g. 30s, 5m or 1h30m"
    if not isinstance(text, str) or not text or not text.isascii():
        raise InvalidDuration(f"{text!r} is not a duration; {hint}")
    if text == "0":
        return timedelta(0)
    position, seconds = 0, Decimal(0)
    while position < len(text):
        match = _DURATION_PART.match(text, position)
        if match is None:
            raise InvalidDuration(f'"{text}" is not a duration; {hint}')
        seconds += Decimal(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if seconds > Decimal(int(maximum.total_seconds())):
        raise InvalidDuration(f'"{text}" is longer than the maximum of {format_duration(maximum)}')
    return timedelta(seconds=float(seconds))
