"""Annotation requests acted on (or being acted on) in this process, per object.

A request is done once ``status.requests`` acknowledges it, but kopf hands the event handler
every watch event in order, and an event whose body predates the acknowledgement (the watch
event of an earlier status write, a concurrent reconcile's update) still shows the request
unacknowledged; the sweeper's retry may also hold the same request while the handler acts.
A claim taken here before the first ``await`` makes the second sight of one request a no-op.
The memory is bounded: the acknowledgement in status guards requests older than it holds,
and across restarts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Key = tuple[str, str, str]  # (object uid, request kind, annotation value)


class ActedRequests:
    """Which (object, kind, value) this process took on; the oldest are forgotten past ``keep``."""

    def __init__(self, keep: int = 10_000) -> None:
        self.keep = keep
        self._taken: dict[Key, None] = {}

    def claim(self, body: Mapping[str, Any], kind: str, value: str) -> bool:
        """True for the first sight of this request (act on it now); False when taken already."""
        key = _key(body, kind, value)
        if key in self._taken:
            return False
        self._taken[key] = None
        while len(self._taken) > self.keep:
            self._taken.pop(next(iter(self._taken)))
        return True

    def release(self, body: Mapping[str, Any], kind: str, value: str) -> None:
        """Not acted on after all (Temporal away before anything started): a later sight may act."""
        self._taken.pop(_key(body, kind, value), None)


def _key(body: Mapping[str, Any], kind: str, value: str) -> Key:
    meta = body.get("metadata") or {}
    # The uid: a Schedule deleted and created again under its name is another object.
    return (str(meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}"), kind, value)


ACTED = ActedRequests()
