"""The operator's /metrics against the real stack, and what an idle sweep costs.

An idle sweep over at least 200 schedules must write nothing to Kubernetes, read nothing
from it (the index answers), and cost O(schedules / page size) Temporal list calls plus
the rolling full check's bounded slice of describes. The counts come from the operator's
own metrics; the sweeper's Kubernetes calls are counted apart from the run accounting
loop's, which runs beside it.
"""

from __future__ import annotations

import json
import math
import time

from tests.e2e.helpers import MANY_NAMESPACES, MANY_PER_NAMESPACE, RESYNC_SECONDS, Replacements
from tests.support.waiting import eventually

from sundial.devstack.operator_process import OperatorProcess

TOTAL = MANY_NAMESPACES * MANY_PER_NAMESPACE  # the ``many`` fixture's Ready schedules
SWEEPS_OK = 'sundial_sweeps_total{result="ok"}'
RESYNC = float(RESYNC_SECONDS)


def resumed(operator: OperatorProcess) -> float:
    """Resources kopf resumed on start: current ones cost no reconcile, so this, not the reconciles, counts them."""
    return sum(operator.metric(f'sundial_resumes_total{{result="{r}"}}') for r in ("current", "reconciled"))


def list_calls(listed: float, page_size: int) -> int:
    """One list call per page; a full last page still carries a token, which costs one more call."""
    return int(listed) // page_size + 1


def test_metrics_cover_reconciles_temporal_calls_phases_and_sweeps(operator: OperatorProcess,
                                                                  many: list[str]) -> None:
    # ``many`` is Ready as soon as the creates are (a write is not read back), which can be before the
    # first sweep has ended: wait for one, then read every figure from the same scrape.
    def after_a_sweep() -> dict[str, float] | None:
        scraped = operator.metrics()
        return scraped if scraped.get("sundial_sweep_duration_seconds_count", 0) >= 1 else None

    metrics = eventually("a sweep has ended", after_a_sweep, timeout=4 * RESYNC + 10)
    assert metrics['sundial_reconciles_total{result="ok"}'] >= TOTAL
    assert metrics["sundial_reconcile_duration_seconds_count"] >= TOTAL
    assert metrics['sundial_temporal_calls_total{operation="create",outcome="ok"}'] >= TOTAL
    assert metrics['sundial_temporal_calls_total{operation="list",outcome="ok"}'] >= 1
    assert metrics['sundial_schedules{phase="Active"}'] >= TOTAL
    assert metrics['sundial_kubernetes_writes_total{kind="status"}'] >= TOTAL
    assert metrics["sundial_sweep_duration_seconds_count"] >= 1
    assert time.time() - metrics["sundial_last_sweep_timestamp_seconds"] < 2 * RESYNC + 5
    assert 10e6 < metrics["process_resident_memory_bytes"] < 500e6


def test_an_idle_sweep_writes_nothing_and_lists_once_per_page(many: list[str], replace_operator: Replacements) -> None:
    # an operator watching only these settled schedules: what earlier tests of the session left behind
    # (a resource retried after an outage, say) legitimately costs reads, and is not what is measured here
    operator = replace_operator("idle", scope=tuple(flag for namespace in many for flag in ("-n", namespace)))
    eventually("resumed every resource", lambda: resumed(operator) >= TOTAL, timeout=120, interval=1)
    operator.wait_for_sweeps(2)  # settled: the sweeps after the creates may refresh next run times once
    operator.wait_for_sweeps(1)
    metrics = operator.metrics()
    listed = metrics["sundial_last_sweep_listed_schedules"]
    assert listed >= TOTAL
    assert metrics["sundial_last_sweep_kubernetes_writes"] == 0
    assert metrics["sundial_last_sweep_kubernetes_reads"] == 0
    assert metrics['sundial_last_sweep_temporal_calls{operation="list"}'] == list_calls(listed, 1000)
    # the only describes are the rolling full check's slice: ceil(N * 5 s resync / 3600 s full check)
    full_checks = metrics["sundial_last_sweep_full_checks"]
    assert full_checks == math.ceil(listed * 5 / 3600)
    assert metrics.get('sundial_last_sweep_temporal_calls{operation="describe"}', 0) == full_checks


def test_sweep_cost_follows_the_page_size_and_logs_are_json(
    operator: OperatorProcess, many: list[str], replace_operator: Replacements,
) -> None:
    small_pages = replace_operator("pages", extra_args=("--log-format", "json"), SUNDIAL_SWEEP_PAGE_SIZE="50")
    eventually("resumed every resource", lambda: resumed(small_pages) >= TOTAL, timeout=120, interval=1)
    small_pages.wait_for_sweeps(3)
    metrics = small_pages.metrics()
    listed = metrics["sundial_last_sweep_listed_schedules"]
    assert metrics['sundial_last_sweep_temporal_calls{operation="list"}'] == list_calls(listed, 50)
    assert metrics["sundial_last_sweep_kubernetes_writes"] == 0
    lines = [json.loads(line) for line in small_pages.log().splitlines() if line.startswith("{")]
    started = [line for line in lines if line.get("decision") == "background-started"]
    assert started and started[0]["page_size"] == 50 and started[0]["orphan_policy"] == "pause"
