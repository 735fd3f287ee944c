"""Which operator process of a kopf peering works: kopf's rule for its handlers, for Sundial's own loops.

kopf keeps one entry per operator process in the peering object's status,
``{id: {priority, lifetime, lastseen}}``, and pauses the handlers of every process that sees a
live entry with a higher priority than its own, or another with the same one. kopf gives
handlers no view of that pause, so the background loops read the object and apply the rule
here. A process whose own entry is not (yet, or any more) there does not count itself active:
kopf writes it before it resumes any handler, and a read that cannot tell stands by.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

DEFAULT_LIFETIME_SECONDS = 60  # kopf's, for an entry that does not say


def is_active(status: Mapping[str, Any] | None, own_priority: int, now: datetime) -> bool:
    """True when the process with ``own_priority`` is the one kopf lets work (pure)."""
    live = [entry for entry in (status or {}).values() if isinstance(entry, Mapping) and _alive(entry, now)]
    priorities = [_priority(entry) for entry in live]
    if priorities.count(own_priority) != 1:  # not registered, or a same-priority peer: kopf pauses both
        return False
    return not any(priority > own_priority for priority in priorities)


def _priority(entry: Mapping[str, Any]) -> int:
    try:
        return int(entry.get("priority") or 0)
    except (TypeError, ValueError):
        return 0


def _alive(entry: Mapping[str, Any], now: datetime) -> bool:
    """kopf's ``Peer.is_dead``, negated: alive until ``lastseen + lifetime``; an unreadable entry is alive."""
    try:
        lifetime = timedelta(seconds=int(entry.get("lifetime", DEFAULT_LIFETIME_SECONDS)))
        lastseen = entry.get("lastseen")
        seen = datetime.fromisoformat(str(lastseen)) if lastseen is not None else now
        return seen + lifetime > now
    except (TypeError, ValueError):
        return True
