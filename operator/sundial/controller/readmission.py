"""Quota re-admission, the I/O half: reconcile a schedule the namespace quota admits now.

``sundial.domain.readmission`` picks them from the index each sweep; here each one is read
fresh (the index may lag), checked to be still waiting, and handed to the reconcile, which
checks the quota again with the same siblings before it touches Temporal.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import kopf

from sundial.domain.indexed import Key, indexed_from_body
from sundial.domain.rules import LIMIT_REACHED
from sundial.logs import decision

Reconcile = Callable[[Mapping[str, Any], Sequence[tuple[str, str]]], Awaitable[None]]
Read = Callable[[str, str], Awaitable[dict[str, Any] | None]]


async def readmit(key: Key, siblings: Sequence[tuple[str, str]], read: Read, reconcile: Reconcile,
                  logger: logging.Logger) -> bool:
    """Reconcile one waiting schedule; False when it is no longer waiting (deleted, edited, admitted)."""
    namespace, name = key
    body = await read(namespace, name)
    if body is None or indexed_from_body(body).refusal != LIMIT_REACHED:
        return False
    try:
        await reconcile(body, siblings)
    except kopf.PermanentError:  # still refused (the creator's quota, say): not a failure of the sweep
        return False
    decision(logger, "readmitted", "a place under the namespace quota freed up: reconciled again",
             schedule=f"{namespace}/{name}")
    return True
