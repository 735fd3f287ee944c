"""Go-style durations (``1h30m``, ``90s``, ``500ms``), as Temporal and Kubernetes users write them."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|h|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


class InvalidDuration(ValueError):
    """A duration string that is not Go-style ``1h30m``, ``90s``, ``500ms``."""


def parse_duration(text: str) -> timedelta:
    """Parse a Go-style duration (units h, m, s, ms; e.g. ``1h30m``, ``90s``, ``0``)."""
    hint = "use a number with a unit (h, m, s, ms), e.g. 30s, 5m or 1h30m"
    if not isinstance(text, str) or not text or not text.isascii():
        raise InvalidDuration(f"{text!r} is not a duration; {hint}")
    if text == "0":
        return timedelta(0)
    position, seconds = 0, 0.0
    while position < len(text):
        match = _DURATION_PART.match(text, position)
        if match is None:
            raise InvalidDuration(f'"{text}" is not a duration; {hint}')
        seconds += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if seconds > timedelta.max.total_seconds() / 2:
        raise InvalidDuration(f'"{text}" is too long a duration')
    return timedelta(seconds=seconds)
