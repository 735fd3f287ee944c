"""One measured round each way: the operator path and the plain-client ceiling.

An operator round starts a fresh operator, creates N resources and times until all are
Active (and confirms Ready), lets it settle, reads its RSS and what one idle sweep cost
from its own metrics, deletes 10% of the Temporal schedules out of band and times the
repair, then cleans up with the operator stopped (cleanup is not measured). During the
create phase it records the CPU seconds of every process of the stack and the
operator's per-operation Temporal timers: the profile of where the time goes.
"""

from __future__ import annotations

import asyncio
import resource
import time
from pathlib import Path
from typing import Any

from kubernetes import client
from temporalio.client import Client

from bench import workload as wl
from bench.stack import BenchStack, cpu_seconds, rss_bytes
from sundial.devstack.operator_process import OperatorProcess
from sundial.domain.desired import ScheduleIdentity, cluster_prefix

Figures = dict[str, Any]
SWEEPS = 'sundial_sweeps_total{result="ok"}'
REPAIRED_MISSING = 'sundial_drift_repairs_total{kind="missing"}'


def cpu_snapshot(stack: BenchStack, operator: OperatorProcess | None) -> dict[str, float]:
    pids = stack.server_pids()
    if operator is not None:
        pids["operator"] = operator.pid
    snapshot = {name: cpu_seconds(pid) for name, pid in pids.items()}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    snapshot["bench (this process)"] = usage.ru_utime + usage.ru_stime
    return snapshot


def delta(after: dict[str, float], before: dict[str, float], prefix: str = "") -> dict[str, float]:
    return {key[len(prefix):]: round(value - before.get(key, 0.0), 3)
            for key, value in after.items() if key.startswith(prefix) and value != before.get(key, 0.0)}


def wait_sweeps(operator: OperatorProcess, count: int, resync: float) -> None:
    operator.wait_for_sweeps(count, SWEEPS, timeout=(count + 1) * resync + 120)


def per_schedule(after: dict[str, float], before: dict[str, float], n: int) -> dict[str, float]:
    """Server-side request counts per schedule created (only what changed), and for Temporal the
    server's mean latency per request (``<op> ms``)."""
    changed = {key: value - before.get(key, 0.0) for key, value in sorted(after.items())}
    result = {key: round(value / n, 2) for key, value in changed.items()
              if not key.endswith(" seconds") and value >= 1}
    for key, value in changed.items():
        operation = key.removesuffix(" seconds")
        if key.endswith(" seconds") and changed.get(operation, 0) >= 1:
            result[f"{operation} ms"] = round(1000 * value / changed[operation], 1)
    return result


async def operator_round(stack: BenchStack, temporal: Client, n: int, round_id: str, resync: float,
                         profile_to: Path | None = None, env: dict[str, str] | None = None) -> Figures:
    api = stack.kube_api()
    keys = wl.names(n, round_id)
    wl.create_namespaces(api, keys)
    operator = stack.operator(f"operator-{round_id}", SUNDIAL_RESYNC_SECONDS=str(resync),
                              SCHEDULE_MAX_PER_NAMESPACE=str(wl.PER_NAMESPACE), SCHEDULE_MAX_PER_USER=str(n + 1),
                              **(env or {}))
    operator.profile_to = profile_to
    operator.start()
    rss_empty = rss_bytes(operator.pid)
    try:
        figures = await _measure(stack, operator, api, temporal, keys, resync)
        figures["rss_mb_at_start"] = round(rss_empty / 2**20, 1)
    finally:
        operator.stop()
    await asyncio.to_thread(wl.remove_resources, api, keys)
    leftovers = await wl.schedule_ids(temporal, cluster_prefix(stack.cluster_id()))
    await wl.delete_schedules(temporal, leftovers)
    return figures


async def _measure(stack: BenchStack, operator: OperatorProcess, api: client.ApiClient, temporal: Client,
                   keys: list[tuple[str, str]], resync: float) -> Figures:
    n = len(keys)
    cpu_before, metrics_before = cpu_snapshot(stack, operator), operator.metrics()
    temporal_before, kube_before = stack.temporal_requests(), stack.apiserver_requests()
    started = time.monotonic()
    kube_seconds = await asyncio.to_thread(wl.create_resources, api, keys)
    await asyncio.to_thread(wl.wait_for, "all Active", lambda: wl.active(operator) >= n, 60 + n)
    to_ready = time.monotonic() - started
    cpu_after, metrics_after = cpu_snapshot(stack, operator), operator.metrics()
    temporal_after, kube_after = stack.temporal_requests(), stack.apiserver_requests()
    ready = await asyncio.to_thread(wl.count_ready, api, keys)

    await asyncio.to_thread(wait_sweeps, operator, 2, resync)  # settled
    rss = rss_bytes(operator.pid)
    writes = _kube_writes(operator.metrics())
    await asyncio.to_thread(wait_sweeps, operator, 1, resync)
    idle_metrics = operator.metrics()
    idle = {"listed": idle_metrics.get("sundial_last_sweep_listed_schedules"),
            "temporal_calls": delta(idle_metrics, {}, "sundial_last_sweep_temporal_calls"),
            "kubernetes_writes": idle_metrics.get("sundial_last_sweep_kubernetes_writes"),
            "kubernetes_writes_counted_between_scrapes": _kube_writes(idle_metrics) - writes,
            "kubernetes_reads": idle_metrics.get("sundial_last_sweep_kubernetes_reads"),
            "full_checks": idle_metrics.get("sundial_last_sweep_full_checks"),  # ceil(N * resync / full check)
            "sweep_seconds": idle_metrics.get("sundial_last_sweep_duration_seconds")}

    drift = await _drift(operator, stack.cluster_id(), temporal, keys, resync)
    return {
        "n": n, "seconds_to_all_ready": round(to_ready, 2), "throughput_per_s": round(n / to_ready, 1),
        "kube_create_seconds": round(kube_seconds, 2), "ready_confirmed": ready,
        "rss_mb_at_rest": round(rss / 2**20, 1), "idle_sweep": idle, "drift": drift,
        "profile": {
            "cpu_seconds": delta(cpu_after, cpu_before),
            "temporal_requests_per_schedule": per_schedule(temporal_after, temporal_before, n),
            "kubernetes_requests_per_schedule": per_schedule(kube_after, kube_before, n),
            "temporal_calls": delta(metrics_after, metrics_before, "sundial_temporal_calls_total"),
            "temporal_call_seconds": delta(metrics_after, metrics_before, "sundial_temporal_call_seconds_total"),
            "kubernetes_writes": delta(metrics_after, metrics_before, "sundial_kubernetes_writes_total"),
            "reconciles": delta(metrics_after, metrics_before, "sundial_reconciles_total"),
            "reconcile_seconds_sum": round(metrics_after.get("sundial_reconcile_duration_seconds_sum", 0.0)
                                           - metrics_before.get("sundial_reconcile_duration_seconds_sum", 0.0),
                                           2),
        },
    }


def _kube_writes(metrics: dict[str, float]) -> float:
    return sum(v for k, v in metrics.items() if k.startswith("sundial_kubernetes_writes_total"))


async def _drift(operator: OperatorProcess, cluster_id: str, temporal: Client,
                 keys: list[tuple[str, str]], resync: float) -> Figures:
    """Delete every tenth schedule in Temporal; time until the operator has recreated all of them."""
    victims = [ScheduleIdentity(cluster_id, ns, name, "").schedule_id for ns, name in keys[::10]]
    repaired_before = operator.metrics().get(REPAIRED_MISSING, 0.0)
    delete_seconds = await wl.delete_schedules(temporal, victims)
    deleted_at, deleted_wall = time.monotonic(), time.time()
    await asyncio.to_thread(
        wl.wait_for, "repairs", lambda: operator.metrics().get(REPAIRED_MISSING, 0.0) >= repaired_before
        + len(victims), 3 * resync + 60 + len(victims), 0.2)
    to_repaired = time.monotonic() - deleted_at
    all_back = await wl.all_exist(temporal, victims)
    await asyncio.to_thread(wl.wait_for, "the repairing sweep to end",
                            lambda: operator.metrics().get("sundial_last_sweep_timestamp_seconds", 0) > deleted_wall,
                            3 * resync + 60)
    sweep_seconds = operator.metrics().get("sundial_last_sweep_duration_seconds")
    return {"deleted": len(victims), "delete_seconds": round(delete_seconds, 2),
            "seconds_to_all_repaired": round(to_repaired, 2), "all_back": all_back,
            "repairing_sweep_seconds": sweep_seconds, "resync_seconds": resync}


async def warm_up(temporal: Client, n: int = 200) -> None:
    """A fresh dev server is slow for its first few hundred schedules: create and delete some first."""
    schedules = wl.plain_schedule_ids(n, "warm-up")
    await wl.plain_creates(temporal, schedules)
    await wl.delete_schedules(temporal, [sid for sid, _, _ in schedules])


async def plain_round(stack: BenchStack, temporal: Client, n: int, round_id: str,
                      operator_pattern: bool = False) -> Figures:
    """The ceiling: create only; or, with ``operator_pattern``, the operator's describe-create-describe."""
    schedules = wl.plain_schedule_ids(n, f"{round_id}{'-pattern' if operator_pattern else ''}")
    cpu_before, requests_before = cpu_snapshot(stack, None), stack.temporal_requests()
    creates = wl.plain_creates_operator_pattern if operator_pattern else wl.plain_creates
    seconds = await creates(temporal, schedules)
    cpu_after, requests_after = cpu_snapshot(stack, None), stack.temporal_requests()
    await wl.delete_schedules(temporal, [sid for sid, _, _ in schedules])
    return {"n": n, "seconds": round(seconds, 2), "throughput_per_s": round(n / seconds, 1),
            "profile": {"cpu_seconds": delta(cpu_after, cpu_before),
                        "temporal_requests_per_schedule": per_schedule(requests_after, requests_before, n)}}
