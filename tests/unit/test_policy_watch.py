"""PolicyWatch against in-memory Kubernetes: which schedules a policy change re-evaluates, and status writes."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.support.memory_kube import MemoryKube
from tests.support.memory_temporal import MemoryTemporal

from sundial.controller.context import OperatorContext
from sundial.controller.policies import PolicyWatch
from sundial.domain.policy import Policy, PolicyView, policy_from_body
from sundial.settings import Settings

pytestmark = pytest.mark.unit
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
SPEC = {"schedule": "0 * * * *", "task": {"query": "q"}}


class World:
    """Indexes as kopf keeps them (key -> list of values), a memory Kubernetes, a recording reconcile."""

    def __init__(self) -> None:
        self.kube = MemoryKube()
        self.policies: dict[str, list[Policy]] = {}
        self.namespaces: dict[str, list[dict[str, str]]] = {"mon": [{"team": "monitoring"}], "other": [{}]}
        self.schedules: dict[str, list[tuple[str, str]]] = {}
        self.statuses: dict[str, list[dict[str, Any]]] = {}
        self.refused: dict[str, list[tuple[str, str]]] = {}
        self.repaired: list[str] = []
        self.written: list[tuple[str, dict[str, Any]]] = []
        view = PolicyView(self.policies, self.namespaces)
        ctx = OperatorContext(settings=Settings(), temporal=MemoryTemporal(), kube=self.kube, cluster_id="c",
                              logger=logging.getLogger("test-policies"), clock=lambda: NOW, policies=view)
        self.watch = PolicyWatch(ctx, view, self.schedules, self.refused, self.statuses, self.repair, self.write)

    def schedule(self, namespace: str, name: str) -> None:
        body = self.kube.add(namespace, name, SPEC)
        self.schedules.setdefault(namespace, []).append((body["metadata"]["creationTimestamp"], name))

    def policy(self, name: str, **spec: Any) -> None:
        self.policies[name] = [policy_from_body({"metadata": {"name": name}, "spec": spec})]
        self.statuses.setdefault(name, [{"generation": 1, "status": {}}])

    async def repair(self, body: Mapping[str, Any], siblings: Sequence[tuple[str, str]]) -> None:
        self.repaired.append(f"{body['metadata']['namespace']}/{body['metadata']['name']}")

    async def write(self, name: str, status: dict[str, Any]) -> None:
        self.written.append((name, status))
        self.statuses[name] = [{"generation": 1, "status": status}]


async def test_the_first_pass_only_records_then_a_change_reevaluates_the_namespaces_it_touches() -> None:
    world = World()
    world.schedule("mon", "probe")
    world.schedule("other", "digest")
    assert await world.watch.reevaluate() == [] and world.repaired == []

    world.policy("monitoring", namespaceSelector={"matchLabels": {"team": "monitoring"}}, minInterval="5m")
    assert await world.watch.reevaluate() == ["mon"]
    assert world.repaired == ["mon/probe"]
    assert await world.watch.reevaluate() == []  # nothing changed since: nothing read, nothing reconciled
    assert world.repaired == ["mon/probe"]

    world.namespaces["other"] = [{"team": "monitoring"}]  # a label change brings "other" under the policy
    assert await world.watch.reevaluate() == ["other"]
    assert world.repaired == ["mon/probe", "other/digest"]


async def test_a_namespace_first_seen_with_schedules_is_reevaluated() -> None:
    world = World()
    assert await world.watch.reevaluate() == []
    world.namespaces["late"] = [{"team": "monitoring"}]  # its labels reached the index after its Schedule
    world.schedule("late", "early-bird")
    world.namespaces["empty"] = [{}]
    assert await world.watch.reevaluate() == ["late"]
    assert world.repaired == ["late/early-bird"]


async def test_status_is_written_when_counts_change_and_only_then() -> None:
    world = World()
    world.schedule("mon", "probe")
    world.policy("monitoring", namespaceSelector={"matchLabels": {"team": "monitoring"}}, minInterval="5m")
    world.policy("everyone")
    await world.watch.reevaluate()
    written = {name: (s["namespaces"], s["schedules"], s["violating"]) for name, s in world.written}
    assert written == {"monitoring": (1, 1, 0), "everyone": (2, 1, 0)}
    await world.watch.reevaluate()
    assert len(world.written) == 2  # unchanged counts: no write
    world.refused["monitoring"] = [("mon", "probe")]
    await world.watch.reevaluate()
    assert world.written[-1][0] == "monitoring" and world.written[-1][1]["violating"] == 1
    assert len(world.written) == 3
