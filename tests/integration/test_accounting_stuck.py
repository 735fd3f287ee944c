"""One stuck resource must not slow run accounting for everyone (issue 10, item 16), on a real Temporal.

A resource whose counters cannot be written (a refused status patch) never moves its
watermark. It used to hold the one shared visibility query back to its creation for every
resource forever; now it leaves the shared window, is retried alone with backoff, and
shows ``RunAccounting=False, AccountingStuck`` until a retry succeeds.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import Client
from tests.integration.helpers import add_schedule, trigger
from tests.support.memory_kube import MemoryKube
from tests.support.scripted_agent import scripted_query

from sundial.adapters.temporal import TemporalGateway
from sundial.controller.accounting import AccountingState, account_once
from sundial.controller.context import OperatorContext
from sundial.domain.status import Status
from sundial.settings import Settings


class RefusingKube(MemoryKube):
    """Refuses the counters of the resources named in ``refused`` (as a validating webhook might)."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: set[str] = set()

    async def patch_status(self, namespace: str, name: str, status: Status,
                           resource_version: str | None = None) -> None:
        if name in self.refused and ("runs" in status or "accounting" in status):
            raise RuntimeError(f"admission webhook denied the status of {name}")
        await super().patch_status(namespace, name, status, resource_version)


def condition(kube: MemoryKube, name: str, type_: str) -> dict[str, Any]:
    return next((c for c in kube.status(name).get("conditions") or [] if c["type"] == type_), {})


async def test_a_stuck_resource_leaves_the_shared_window_and_is_retried_alone_with_backoff(
    gateway: TemporalGateway, temporal_client: Client, task_queue: str
) -> None:
    kube, queue, now = RefusingKube(), task_queue, [datetime.now(UTC)]
    ctx = OperatorContext(settings=Settings(allowed_task_queues=("*",)), temporal=gateway, kube=kube,
                          cluster_id=f"stuck-{uuid.uuid4()}",
                          logger=logging.getLogger("test"), clock=lambda: now[0])
    good = await add_schedule(ctx, kube, "good", queue, scripted_query())
    stuck = await add_schedule(ctx, kube, "stuck", queue, scripted_query())
    created = datetime.now(UTC) - timedelta(seconds=5)
    for sid in (good, stuck):
        await trigger(gateway, temporal_client, sid)
    kube.refused.add("stuck")
    state = AccountingState()

    first = await account_once(ctx, state)
    assert [f.split(":")[0] for f in first.failures] == ["team-a/stuck"]
    assert kube.status("good")["runs"]["total"] == 1
    assert (condition(kube, "stuck", "RunAccounting").get("status"),
            condition(kube, "stuck", "RunAccounting").get("reason")) == ("False", "AccountingStuck")

    now[0] += timedelta(hours=1)  # the good one's watermark moves on in this sweep; the stuck one's cannot
    second = await account_once(ctx, state)
    assert second.temporal_calls.get("list_runs") == 3  # shared closed, the stuck one alone, running
    assert len(second.failures) == 1  # its backoff doubles: 60 s

    now[0] += timedelta(seconds=10)  # within its backoff: left out altogether
    third = await account_once(ctx, state)
    assert third.window_start is not None and third.window_start > created + timedelta(minutes=50), \
        "the shared query still starts at the stuck resource's watermark"
    assert (third.failures, third.temporal_calls.get("list_runs")) == ([], 2)

    now[0] += timedelta(minutes=2)  # its backoff ran out: retried alone, the shared window stays recent
    fourth = await account_once(ctx, state)
    assert fourth.window_start is not None and fourth.window_start > created + timedelta(minutes=50)
    assert (len(fourth.failures), fourth.temporal_calls.get("list_runs")) == (1, 3)

    kube.refused.clear()
    now[0] += timedelta(hours=1)
    fifth = await account_once(ctx, state)
    assert fifth.failures == [] and kube.status("stuck")["runs"]["total"] == 1
    assert condition(kube, "stuck", "RunAccounting").get("status") == "True"
    assert kube.status("good")["runs"]["total"] == 1
