"""Events are best effort (issue 10, item 17): a failed post is logged, never raised."""

from __future__ import annotations

import logging
from typing import Any, cast

from kubernetes.client.exceptions import ApiException

from sundial.controller.context import OperatorContext
from sundial.settings import Settings

BODY = {"metadata": {"namespace": "team-a", "name": "news", "uid": "u1"}}


class RefusingKube:
    """The KubeGateway's ``post_event`` as an apiserver that throttles, then one that is away."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def post_event(self, *args: Any) -> bool:
        raise self.error


def context(kube: object) -> OperatorContext:
    return OperatorContext(settings=Settings(), temporal=cast(Any, None), kube=cast(Any, kube), cluster_id="c",
                           logger=logging.getLogger("test-events"))


async def test_a_throttled_or_failed_event_post_is_logged_not_raised(caplog: Any) -> None:
    for error in (ApiException(status=429, reason="Too Many Requests"), ConnectionError("apiserver away")):
        with caplog.at_level(logging.WARNING, logger="test-events"):
            assert await context(RefusingKube(error)).event(BODY, "Warning", "Overdue", "late") is False
    dropped = [r for r in caplog.records if getattr(r, "decision", None) == "event-dropped"]
    assert len(dropped) == 2 and "team-a/news" in dropped[0].getMessage()
