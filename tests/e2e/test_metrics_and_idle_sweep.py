"""The operator's /metrics against the real stack, and what an idle sweep costs.

An idle sweep over at least 200 schedules must write nothing to Kubernetes, read nothing
from it (the index answers), and cost O(schedules / page size) Temporal list calls and
no describes. The counts come from the operator's own metrics; the sweeper's Kubernetes
calls are counted apart from the run accounting loop's, which runs beside it.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from tests.e2e.conftest import Kube, OperatorProcess, condition, eventually, operator_env

from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.processes import ManagedProcess, wait_until
from sundial.devstack.temporal_dev import TemporalDevServer

NAMESPACES, PER_NAMESPACE = 5, 42  # 210 schedules; the per-namespace quota is 50
TOTAL = NAMESPACES * PER_NAMESPACE
SWEEPS_OK = 'sundial_sweeps_total{result="ok"}'
RESYNC = 5.0
SPEC = {"schedule": "0 9 * * *", "timeZone": "Europe/Berlin", "task": {"query": "idle"}}


def samples(text: str) -> dict[str, float]:
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines() if line and not line.startswith("#")}


def value(process: OperatorProcess, sample: str) -> float:
    return samples(process.metrics()).get(sample, 0.0)


def list_calls(listed: float, page_size: int) -> int:
    """One list call per page; a full last page still carries a token, which costs one more call."""
    return int(listed) // page_size + 1


def all_ready(kube: Kube, namespaces: list[str]) -> bool:
    for namespace in namespaces:
        listing = cast(dict[str, Any], kube.custom.list_namespaced_custom_object("sundial.dev", "v1alpha1",
                                                                                  namespace, "schedules"))
        items = listing["items"]
        if len(items) < PER_NAMESPACE or any(condition(i, "Ready").get("status") != "True" for i in items):
            return False
    return True


def next_sweep(process: OperatorProcess, count: int = 1) -> None:
    """Wait until ``count`` more sweeps have finished."""
    done = value(process, SWEEPS_OK)
    eventually(f"{count} more sweep(s)", lambda: value(process, SWEEPS_OK) >= done + count,
               timeout=(count + 1) * RESYNC + 15)


@pytest.fixture(scope="module")
def many(operator: OperatorProcess, kube: Kube) -> Iterator[list[str]]:
    """210 Ready Schedules, deleted again after the module."""
    namespaces = [kube.new_namespace() for _ in range(NAMESPACES)]
    for namespace in namespaces:
        for n in range(PER_NAMESPACE):
            kube.create(namespace, f"idle-{n}", SPEC)
    eventually("all 210 Ready", lambda: all_ready(kube, namespaces), timeout=180, interval=1)
    yield namespaces
    for namespace in namespaces:
        for n in range(PER_NAMESPACE):
            kube.delete(namespace, f"idle-{n}")


def test_an_idle_sweep_writes_nothing_and_lists_once_per_page(operator: OperatorProcess,
                                                              many: list[str]) -> None:
    next_sweep(operator, 2)  # settled: the sweeps after the creates may refresh next run times once
    next_sweep(operator)
    metrics = samples(operator.metrics())
    listed = metrics["sundial_last_sweep_listed_schedules"]
    assert listed >= TOTAL
    assert metrics["sundial_last_sweep_kubernetes_writes"] == 0
    assert metrics["sundial_last_sweep_kubernetes_reads"] == 0
    assert metrics['sundial_last_sweep_temporal_calls{operation="list"}'] == list_calls(listed, 1000)
    assert metrics.get('sundial_last_sweep_temporal_calls{operation="describe"}', 0) == 0


def test_metrics_cover_reconciles_temporal_calls_phases_and_sweeps(operator: OperatorProcess,
                                                                  many: list[str]) -> None:
    metrics = samples(operator.metrics())
    assert metrics['sundial_reconciles_total{result="ok"}'] >= TOTAL
    assert metrics["sundial_reconcile_duration_seconds_count"] >= TOTAL
    assert metrics['sundial_temporal_calls_total{operation="create",outcome="ok"}'] >= TOTAL
    assert metrics['sundial_temporal_calls_total{operation="list",outcome="ok"}'] >= 1
    assert metrics['sundial_schedules{phase="Active"}'] >= TOTAL
    assert metrics['sundial_kubernetes_writes_total{kind="status"}'] >= TOTAL
    assert metrics["sundial_sweep_duration_seconds_count"] >= 1
    assert time.time() - metrics["sundial_last_sweep_timestamp_seconds"] < 2 * RESYNC + 5
    assert 10e6 < metrics["process_resident_memory_bytes"] < 500e6


class JsonLoggingOperator(OperatorProcess):
    """The operator with ``--log-format json``."""

    def start(self) -> None:
        self.starts += 1
        argv = [sys.executable, "-m", "sundial.cli", "run", "-A", "--log-format", "json",
                "--liveness-port", str(self.liveness_port), "--metrics-port", str(self.metrics_port)]
        log = self.workdir / f"operator-{self.starts}.log"
        self.proc = ManagedProcess("operator", argv, log, env=self.env)
        self.proc.start()
        wait_until("operator liveness", self._alive, 60, watch=[self.proc], interval=0.2)


def test_sweep_cost_follows_the_page_size_and_logs_are_json(
    operator: OperatorProcess, many: list[str], control_plane: LocalControlPlane,
    temporal_server: TemporalDevServer, stack_dir: Path,
) -> None:
    workdir = stack_dir / "operator-pages"
    workdir.mkdir(exist_ok=True)
    small_pages = JsonLoggingOperator(workdir, operator_env(control_plane, temporal_server,
                                                            SUNDIAL_SWEEP_PAGE_SIZE="50"))
    operator.stop()  # one operator per cluster at a time
    try:
        small_pages.start()
        eventually("resumed every resource", lambda: value(small_pages, 'sundial_reconciles_total{result="ok"}')
                   >= TOTAL, timeout=120, interval=1)
        next_sweep(small_pages, 3)
        metrics = samples(small_pages.metrics())
        listed = metrics["sundial_last_sweep_listed_schedules"]
        assert metrics['sundial_last_sweep_temporal_calls{operation="list"}'] == list_calls(listed, 50)
        assert metrics["sundial_last_sweep_kubernetes_writes"] == 0
        lines = [json.loads(line) for line in small_pages.log().splitlines() if line.startswith("{")]
        started = [line for line in lines if line.get("decision") == "background-started"]
        assert started and started[0]["page_size"] == 50 and started[0]["orphan_policy"] == "delete"
    finally:
        small_pages.stop()
        operator.start()
