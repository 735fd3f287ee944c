"""Retries driven by the sweeper: a resource left short of its desired state is tried again.

``sundial.domain.retry`` says which resources wait and when each is due; here one attempt is
made on a fresh read: the reconcile for ``phase: Error`` (a spec edit, a repair or a resume
that hit an outage), the annotation requests for a trigger that waits for Temporal.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from sundial.controller.annotation_requests import handle_annotation_requests
from sundial.controller.context import OperatorContext
from sundial.domain.indexed import Key, indexed_from_body
from sundial.domain.retry import needs_retry
from sundial.domain.validation import Peers
from sundial.logs import decision

Reconcile = Callable[[Mapping[str, Any], Sequence[tuple[str, str]]], Awaitable[None]]
Read = Callable[[str, str], Awaitable[dict[str, Any] | None]]


async def retry_one(ctx: OperatorContext, key: Key, siblings: Sequence[tuple[str, str]], read: Read,
                    reconcile: Reconcile, logger: logging.Logger) -> None:
    """One attempt; an exception (Temporal still away) leaves the resource waiting for the next."""
    namespace, name = key
    body = await read(namespace, name)
    if body is None:
        return
    indexed = indexed_from_body(body)
    if not needs_retry(indexed):
        return
    decision(logger, "retry", "retrying a resource short of its desired state", schedule=f"{namespace}/{name}",
             phase=indexed.phase, trigger_waiting=indexed.trigger_waiting)
    if indexed.trigger_waiting:
        await handle_annotation_requests(ctx, body, Peers(namespace=list(siblings)))
    if indexed.phase == "Error":
        await reconcile(body, siblings)


async def reconcile_now(key: Key, siblings: Sequence[tuple[str, str]], read: Read, reconcile: Reconcile) -> None:
    """A fresh read, then the reconcile, whatever the resource's state (e.g. to report an install conflict)."""
    body = await read(*key)
    if body is not None:
        await reconcile(body, siblings)
