"""Quota re-admission against the real stack: a schedule refused by the namespace quota is admitted,
with no edit, once a place frees up (an older one deleted, or the quota raised by a restart)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from temporalio.client import Client
from tests.e2e.helpers import Kube, Replacements, condition, ready
from tests.e2e.test_drift_repair import RESYNC, exists
from tests.e2e.test_refusals import stalled
from tests.e2e.test_schedule_lifecycle import EXAMPLE_SPEC, schedule_id
from tests.support.waiting import eventually

from sundial.devstack.operator_process import OperatorProcess

WITHIN_ONE_RESYNC = RESYNC + 10.0  # one sweep plus the reconcile, on 2 busy cores


def quota_operator(replace_operator: Replacements, namespace: str) -> Callable[[int], OperatorProcess]:
    """Start (again) an operator for ``namespace`` alone with SCHEDULE_MAX_PER_NAMESPACE set: an operator
    setting changes only with a restart. ``replace_operator`` brings the session's operator back after."""
    def start(limit: int) -> OperatorProcess:
        return replace_operator(f"quota-{namespace}-{limit}", scope=("-n", namespace),
                                SCHEDULE_MAX_PER_NAMESPACE=str(limit))
    return start


def refused_by_quota(kube: Kube, namespace: str, name: str) -> dict[str, Any] | None:
    body = stalled(kube, namespace, name)
    return body if body and condition(body, "Stalled")["reason"] == "ScheduleLimitReached" else None


async def test_a_refused_schedule_is_admitted_when_a_place_frees_up(
    replace_operator: Replacements, kube: Kube, temporal_client: Client,
) -> None:
    ns = kube.new_namespace(webhook=False)  # the status backstop: the webhook would refuse at apply
    quota_operator(replace_operator, ns)(2)
    for name in ("first", "second", "third"):
        kube.create(ns, name, EXAMPLE_SPEC)  # same second or not: (creationTimestamp, name) is this order
    eventually("first two Ready", lambda: ready(kube, ns, "first") and ready(kube, ns, "second"), timeout=30)
    refused = eventually("third refused", lambda: refused_by_quota(kube, ns, "third"), timeout=30)
    assert "the limit is 2" in condition(refused, "Stalled")["message"]
    generation = refused["metadata"]["generation"]

    kube.delete(ns, "first")
    eventually("first gone", lambda: not kube.exists(ns, "first"), timeout=30)
    freed = time.monotonic()
    body = eventually("third Ready", lambda: ready(kube, ns, "third"), timeout=WITHIN_ONE_RESYNC)
    assert time.monotonic() - freed < WITHIN_ONE_RESYNC
    assert body["metadata"]["generation"] == generation  # no edit
    assert body["status"]["phase"] == "Active"
    assert condition(body, "Stalled")["status"] == "False"
    assert await exists(temporal_client, body["status"]["temporal"]["scheduleId"])


async def test_raising_the_quota_admits_the_waiting_schedules_in_quota_order(
    replace_operator: Replacements, kube: Kube, temporal_client: Client,
) -> None:
    ns = kube.new_namespace(webhook=False)  # the status backstop: the webhook would refuse at apply
    start = quota_operator(replace_operator, ns)
    start(1)
    for name in ("a", "b", "c"):
        kube.create(ns, name, EXAMPLE_SPEC)
    eventually("a Ready", lambda: ready(kube, ns, "a"), timeout=30)
    eventually("b and c refused", lambda: refused_by_quota(kube, ns, "b") and refused_by_quota(kube, ns, "c"),
               timeout=30)

    start(2)  # the quota raised by one: only the older waiting schedule gets the place
    eventually("b Ready", lambda: ready(kube, ns, "b"), timeout=WITHIN_ONE_RESYNC + 10)
    assert await exists(temporal_client, kube.get(ns, "b")["status"]["temporal"]["scheduleId"])
    assert refused_by_quota(kube, ns, "c")
    assert not await exists(temporal_client, schedule_id(kube, ns, "c"))
