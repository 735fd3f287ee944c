"""Which resources are not in their desired state, and when to try them again.

Pure (the clock is a parameter). Whatever started an attempt (a spec edit, a sweep's repair,
``sundial resume``, ``sundial trigger``), an attempt that hit a Temporal outage leaves a mark
the resource index shows: ``phase: Error``, or a trigger request waiting (not acknowledged,
``status.requests.triggerResult`` saying it waits). The sweeper retries each such resource with
backoff (1 s doubling to 60 s, never more often than it sweeps) until it is in its desired
state, so nothing is stranded waiting for a user.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sundial.domain.indexed import IndexedSchedule, Key

TRIGGER_WAITING = "waiting"  # status.requests.triggerResult prefix while a trigger waits for Temporal


def backoff_seconds(attempt: int) -> float:
    """1, 2, 4 ... up to 60 seconds between attempts."""
    return float(min(60, 2 ** min(attempt, 6)))


def needs_retry(indexed: IndexedSchedule) -> bool:
    """An earlier attempt failed for a reason that passes (Temporal away), and nothing else will retry it."""
    return not indexed.deleting and (indexed.phase == "Error" or indexed.trigger_waiting)


@dataclass
class RetryBook:
    """Per resource: attempts so far and when the next one is due (monotonic seconds)."""

    attempts: dict[Key, int] = field(default_factory=dict)
    due: dict[Key, float] = field(default_factory=dict)

    def pick(self, waiting: Iterable[Key], now: float) -> list[Key]:
        """The waiting resources due for an attempt now; each is booked for its next one. A resource
        no longer waiting is forgotten (its next failure starts at 1 s again)."""
        waiting = set(waiting)
        for key in set(self.attempts) - waiting:
            self.attempts.pop(key, None)
            self.due.pop(key, None)
        chosen = sorted(key for key in waiting if self.due.get(key, 0.0) <= now)
        for key in chosen:
            self.attempts[key] = self.attempts.get(key, 0) + 1
            self.due[key] = now + backoff_seconds(self.attempts[key] - 1)
        return chosen
