"""kopf peering's rule for Sundial's own loops (``domain.peering``) and the gate that applies it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sundial.controller.metrics import OperatorMetrics
from sundial.controller.peering import PeerGate, peer_gate
from sundial.domain.peering import is_active

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def entry(priority: int, seen_ago: float = 1.0, lifetime: int = 60) -> dict[str, Any]:
    return {"priority": priority, "lifetime": lifetime, "lastseen": (NOW - timedelta(seconds=seen_ago)).isoformat()}


def test_the_highest_live_priority_is_active_and_the_others_stand_by() -> None:
    status = {"a": entry(10), "b": entry(20)}
    assert is_active(status, 20, NOW) and not is_active(status, 10, NOW)


def test_a_dead_higher_peer_does_not_hold_the_lower_one_back() -> None:
    status = {"a": entry(10), "b": entry(20, seen_ago=61)}  # lastseen + lifetime passed: kopf's is_dead
    assert is_active(status, 10, NOW)


def test_a_process_not_in_the_object_yet_is_not_active() -> None:
    assert not is_active({"b": entry(20)}, 30, NOW)
    assert not is_active(None, 30, NOW)


def test_two_live_processes_with_one_priority_both_stand_by_as_kopf_pauses_both() -> None:
    assert not is_active({"a": entry(20), "b": entry(20)}, 20, NOW)


def test_an_unreadable_entry_counts_as_a_live_peer() -> None:
    status = {"a": entry(10), "b": {"priority": 99, "lastseen": "not a time"}}
    assert not is_active(status, 10, NOW)


async def test_standalone_is_always_active_with_no_call() -> None:
    metrics = OperatorMetrics()
    gate = PeerGate(metrics=metrics)
    assert await gate() and metrics.value("sundial_active_peer") == 1
    assert isinstance(peer_gate(None, 5, _unused, ()), PeerGate) and await peer_gate(None, 5, _unused, ())()


async def _unused(name: str, namespace: str | None) -> Mapping[str, Any] | None:
    raise AssertionError("standalone must not read the peering object")


async def test_the_gate_reads_each_watched_namespace_and_needs_all_of_them() -> None:
    metrics, reads = OperatorMetrics(), []
    objects = {"ns-a": {"status": {"me": entry(20)}}, "ns-b": {"status": {"me": entry(20), "other": entry(30)}}}

    async def read(name: str, namespace: str | None) -> Mapping[str, Any] | None:
        reads.append((name, namespace))
        return objects.get(namespace or "")

    gate = PeerGate(read, "sundial", 20, ("ns-a", "ns-b"), clock=lambda: NOW, metrics=metrics)
    assert not await gate() and metrics.value("sundial_active_peer") == 0
    assert reads == [("sundial", "ns-a"), ("sundial", "ns-b")]
    del objects["ns-b"]["status"]["other"]
    assert await gate() and metrics.value("sundial_active_peer") == 1


async def test_a_failed_or_missing_read_stands_by() -> None:
    async def failing(name: str, namespace: str | None) -> Mapping[str, Any] | None:
        raise OSError("apiserver away")

    async def missing(name: str, namespace: str | None) -> Mapping[str, Any] | None:
        return None

    for read in (failing, missing):
        assert not await PeerGate(read, "sundial", 20, (), clock=lambda: NOW, metrics=OperatorMetrics())()
