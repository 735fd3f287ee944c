"""The rolling full check: which schedules a sweep describes, so every one is fully compared in time.

Pure. A list page shows only the ``listed`` part of a fingerprint (calendar, zone, window,
workflow type); the action's input, task queue, timeouts, retry, overlap and catch-up window
only show in a describe. Describing every schedule every sweep would cost N calls per
``SUNDIAL_RESYNC_SECONDS``; instead each sweep describes the next slice of a rotation over the
settled schedules, sorted by (namespace, name):

    slice = ceil(N * resync_seconds / full_check_seconds)   (at most N; 0 when N is 0)

so the whole rotation takes at most ``full_check_seconds``, and the cost per sweep is bounded
by that slice (e.g. 10,000 schedules, resync 60 s, full check 3600 s: 167 describes a sweep).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from sundial.domain.indexed import Key


def slice_size(count: int, resync_seconds: float, full_check_seconds: float) -> int:
    """How many schedules one sweep describes (see the module docstring)."""
    if count <= 0:
        return 0
    return min(count, math.ceil(count * resync_seconds / full_check_seconds))


def next_slice(keys: Iterable[Key], after: Key | None, size: int) -> tuple[list[Key], Key | None]:
    """The ``size`` keys following ``after`` in sorted order, wrapping around; and the new cursor."""
    ordered = sorted(set(keys))
    if size <= 0 or not ordered:
        return [], after
    start = 0 if after is None else next((i for i, key in enumerate(ordered) if key > after), 0)
    chosen = [ordered[(start + i) % len(ordered)] for i in range(min(size, len(ordered)))]
    return chosen, chosen[-1]
