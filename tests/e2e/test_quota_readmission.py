"""Quota re-admission against the real stack: a schedule refused by the namespace quota is admitted,
with no edit, once a place frees up (an older one deleted, or the quota raised by a restart)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from tests.e2e.conftest import Kube, OperatorProcess, condition, eventually, operator_env, ready
from tests.e2e.test_drift_repair import RESYNC, exists
from tests.e2e.test_refusals import stalled
from tests.e2e.test_schedule_lifecycle import EXAMPLE_SPEC, schedule_id

from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.temporal_dev import TemporalDevServer

WITHIN_ONE_RESYNC = RESYNC + 10.0  # one sweep plus the reconcile, on 2 busy cores

QuotaOperator = Callable[[int], OperatorProcess]


@pytest.fixture
def quota_operator(operator: OperatorProcess, control_plane: LocalControlPlane, temporal_server: TemporalDevServer,
                   stack_dir: Path, kube: Kube) -> Iterator[tuple[str, QuotaOperator]]:
    """An operator for one new namespace with SCHEDULE_MAX_PER_NAMESPACE set; restarting it with another
    limit is how an operator setting changes. The session's operator is back afterwards."""
    namespace = kube.new_namespace()
    started: list[OperatorProcess] = []

    def start(limit: int) -> OperatorProcess:
        for process in started:
            process.stop()
        workdir = stack_dir / f"operator-quota-{len(started)}"
        workdir.mkdir(exist_ok=True)
        env = operator_env(control_plane, temporal_server, SCHEDULE_MAX_PER_NAMESPACE=str(limit))
        process = OperatorProcess(workdir, env, scope=("-n", namespace))
        started.append(process)
        process.start()
        return process

    operator.stop()
    try:
        yield namespace, start
    finally:
        for process in started:
            process.stop()
        operator.start()


def refused_by_quota(kube: Kube, namespace: str, name: str) -> dict[str, Any] | None:
    body = stalled(kube, namespace, name)
    return body if body and condition(body, "Stalled")["reason"] == "ScheduleLimitReached" else None


async def test_a_refused_schedule_is_admitted_when_a_place_frees_up(
    quota_operator: tuple[str, QuotaOperator], kube: Kube, temporal_client: Client,
) -> None:
    ns, start = quota_operator
    start(2)
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
    quota_operator: tuple[str, QuotaOperator], kube: Kube, temporal_client: Client,
) -> None:
    ns, start = quota_operator
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
