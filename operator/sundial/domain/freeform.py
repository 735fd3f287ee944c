"""Bounds on the free-form JSON a user may write (``spec.task.context``, ``spec.workflow.args``).

The Kubernetes schema cannot see inside free-form values (CEL has no access to fields a
schema does not declare), so their depth and size are checked here, by the rules every
path shares (the operator's reconcile and the admission webhook). The walk is iterative:
an object nested thousands of levels deep is measured, not recursed into.
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

#: Deepest nesting of objects and lists (the value itself is level 1).
MAX_DEPTH: Final = 32
#: Largest size of the value written as compact JSON, in bytes (UTF-8).
MAX_BYTES: Final = 64 * 1024


def _scalar_bytes(value: Any) -> int:
    if isinstance(value, str):
        return len(json.dumps(value, ensure_ascii=False).encode())
    if isinstance(value, bool) or value is None:
        return 5
    if isinstance(value, int):
        return int(value.bit_length() * 0.30103) + 2  # str() refuses beyond 4300 digits
    return len(repr(value))


def free_form_problem(value: Any) -> str | None:
    """Why ``value`` exceeds the bounds ("nested 600 levels deep; the limit is 32"), or None."""
    size, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"is nested more than {MAX_DEPTH} levels deep (objects and lists); the limit is {MAX_DEPTH}"
        if isinstance(item, dict):
            size += 2 + sum(_scalar_bytes(str(key)) + 2 for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list | tuple):
            size += 2 + len(item)
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, float) and not math.isfinite(item):
            return "holds NaN or an infinity, which JSON cannot carry"
        else:
            size += _scalar_bytes(item)
        if size > MAX_BYTES:
            return f"is more than {MAX_BYTES} bytes as JSON; the limit is {MAX_BYTES}"
    return None


def bounded_free_form(value: Any) -> Any:
    """A pydantic after-validator: ``value`` unchanged, or ValueError with the bound it breaks."""
    problem = free_form_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value
