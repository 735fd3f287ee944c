"""A 409 on the accounting patch is a race, not a stuck resource (issue 10, item 16)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, cast

from kubernetes.client.exceptions import ApiException

from sundial.controller.accounting import Tracked
from sundial.controller.accounting_stuck import StuckBook, mark_stuck
from sundial.controller.context import OperatorContext
from sundial.settings import Settings

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def test_a_conflict_does_not_make_a_resource_stuck_but_a_refusal_does() -> None:
    ctx = OperatorContext(settings=Settings(), temporal=cast(Any, None), kube=cast(Any, None), cluster_id="c",
                          logger=logging.getLogger("test"), clock=lambda: NOW)
    book, tracked = StuckBook(), Tracked("team-a", "news", "u1")
    await mark_stuck(ctx, book, tracked, ApiException(status=409, reason="Conflict"))
    assert book.stuck == {}  # raced a concurrent write: read again next sweep, no backoff
    book.failed("u1", NOW, "earlier")  # so the condition write (to a None kube) is not attempted
    await mark_stuck(ctx, book, tracked, RuntimeError("denied by a webhook"))
    assert book.stuck["u1"].failures == 2 and book.waiting("u1", NOW)
