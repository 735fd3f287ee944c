"""Sundial's own exceptions: one root, so callers can catch what they mean.

    SundialError
    ├── SpecInvalid            a Schedule's spec breaks a rule; carries reason, field, message
    ├── SettingsError          a bad operator setting (start-up stops with one line)
    └── TemporalError          anything Temporal said or failed to say
        ├── TemporalUnavailable    the server did not answer (retry with backoff)
        ├── ScheduleNotFound       no schedule with that ID
        ├── ScheduleAlreadyExists  the ID is taken (adopt it, never create a second)
        └── TemporalRejected       the server refused the request (e.g. INVALID_ARGUMENT)
"""

from __future__ import annotations


class SundialError(Exception):
    """Root of every error Sundial raises on purpose."""


class SpecInvalid(SundialError):
    """A spec that breaks a rule (``domain/rules.py``); permanent until the spec changes."""

    def __init__(self, reason: str, field: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.field = field
        self.message = message


class SettingsError(SundialError):
    """An operator setting with a bad value."""


class TemporalError(SundialError):
    """Temporal failed or refused."""


class TemporalUnavailable(TemporalError):
    """Temporal could not be reached; the call may succeed later."""


class ScheduleNotFound(TemporalError):
    """No Temporal schedule with the given ID."""


class ScheduleAlreadyExists(TemporalError):
    """A Temporal schedule with the given ID exists already."""


class TemporalRejected(TemporalError):
    """Temporal refused the request as invalid (it will not succeed on retry)."""
