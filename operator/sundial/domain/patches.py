"""JSON merge patches (RFC 7386): what a status patch will leave, and the smallest patch for a change.

Status writes name only what changed, so a concurrent writer's own fields (and fields this
code does not know) survive; ``merged`` tells what the apiserver will hold after a patch.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


def merged(status: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """``status`` after a JSON merge patch (RFC 7386): what the apiserver will hold."""
    result = dict(status)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, Mapping):
            current = result.get(key)
            result[key] = merged(current if isinstance(current, Mapping) else {}, value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def changed_leaves(previous: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON merge patch (RFC 7386) of what ``new`` sets differently from ``previous``, leaf by leaf.

    Objects are descended into, lists and scalars are leaves; nothing is deleted. Naming
    only the changed leaves keeps a concurrent writer's own leaves (``sundial resume`` resets
    ``runs.consecutiveFailures``, and fields this code does not know) as that writer left them.
    """
    patch: dict[str, Any] = {}
    for key, value in new.items():
        before = previous.get(key)
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            inner = changed_leaves(before, value)
            if inner:
                patch[key] = inner
        elif key not in previous or before != value:
            patch[key] = value
    return patch
