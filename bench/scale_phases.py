"""The phases of ``bench.scale`` after the creates: at rest, an idle sweep, a restart, drift repair.

Each returns a dict of figures. They read the operator's own metrics by name only
(``light_metrics``) and the servers' request counters (``BenchStack.temporal_requests``,
``apiserver_requests``), so every figure is also counted where the call lands.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from kubernetes import client
from temporalio.client import Client

from bench import workload as wl
from bench.stack import BenchStack, rss_bytes
from sundial.devstack.operator_process import OperatorProcess
from sundial.domain.desired import ScheduleIdentity

Figures = dict[str, Any]
POLL = 2.0  # seconds between polls of the operator's metrics (each scrape renders every schedule's series)
SWEEPS = 'sundial_sweeps_total{result="ok"}'
REPAIRED_MISSING = 'sundial_drift_repairs_total{kind="missing"}'
ACTIVE = 'sundial_schedules{phase="Active"}'
WRITE_VERBS, READ_VERBS = ("POST", "PUT", "PATCH", "DELETE"), ("GET", "LIST")
APISERVER_OWN = ("leases", "endpoints", "endpointslices", "services")  # its own loops (leases, endpoints, IP repair)


def light_metrics(operator: OperatorProcess) -> dict[str, float]:
    """The operator's metrics without the per-schedule families (``sundial_schedule_*``)."""
    url = f"http://{operator.host}:{operator.metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=30) as resp:
        text: str = resp.read().decode()
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
            if line and not line.startswith(("#", "sundial_schedule_"))}


def creator(api: client.ApiClient) -> Callable[[tuple[str, str]], None]:
    custom = client.CustomObjectsApi(api)

    def create(key: tuple[str, str]) -> None:
        namespace, name = key
        body = {"apiVersion": f"{wl.GROUP}/{wl.VERSION}", "kind": "Schedule",
                "metadata": {"name": name, "namespace": namespace}, "spec": wl.SPEC}
        custom.create_namespaced_custom_object(wl.GROUP, wl.VERSION, namespace, wl.PLURAL, body)
    return create


def start_creates(api: client.ApiClient, keys: list[tuple[str, str]], threads: int) -> Future[float]:
    """Create the resources with a bounded pool in the background; the future gives the seconds it took."""
    def all_of_them() -> float:
        started = time.monotonic()
        wl._threads(creator(api), keys, threads)
        return time.monotonic() - started
    return ThreadPoolExecutor(1).submit(all_of_them)


def wait_active(operator: OperatorProcess, n: int, started: float, creates: Future[float]) -> dict[str, float]:
    """Until the operator counts N Active; returns when 10/50/90/100% were first seen (s from ``started``)."""
    marks: dict[str, float] = {}
    deadline = started + 900 + n
    while len(marks) < 4:
        if creates.done() and creates.exception() is not None:
            raise RuntimeError("creating the resources failed") from creates.exception()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{n} Active: not within {deadline - started:.0f}s (marks {marks})")
        active = light_metrics(operator).get(ACTIVE, 0.0)
        for share in (10, 50, 90, 100):
            if active >= n * share / 100 and f"{share}%" not in marks:
                marks[f"{share}%"] = round(time.monotonic() - started, 1)
        time.sleep(POLL)
    return marks


def wait_sweeps(operator: OperatorProcess, count: int, resync: float) -> None:
    target = light_metrics(operator).get(SWEEPS, 0.0) + count
    wl.wait_for(f"{count} sweeps", lambda: light_metrics(operator).get(SWEEPS, 0.0) >= target,
                (count + 2) * resync + 600, POLL)


def _kube(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    """apiserver requests on resources that changed, by 'VERB resource[ subresource]' (not its /metrics, not
    the apiserver's own lease and endpoints loops)."""
    return {key: value - before.get(key, 0.0) for key, value in sorted(after.items())
            if len(key.split()) > 1 and key.split()[1] not in APISERVER_OWN and value != before.get(key, 0.0)}


def _temporal(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {key: value - before.get(key, 0.0) for key, value in sorted(after.items())
            if not key.endswith(" seconds") and value != before.get(key, 0.0)}


def _sum(counts: dict[str, float], verbs: tuple[str, ...]) -> float:
    """Requests of these verbs; an access review (POST ...reviews, the start-up RBAC check) is no write."""
    return sum(value for key, value in counts.items()
               if key.split()[0] in verbs and not key.split()[1].endswith("reviews"))


def _schedule_calls(counts: dict[str, float]) -> float:
    return sum(value for key, value in counts.items() if "Schedule" in key)


async def at_rest(stack: BenchStack, operator: OperatorProcess, resync: float) -> Figures:
    await asyncio.to_thread(wait_sweeps, operator, 2, resync)
    assert stack.temporal is not None
    db = stack.temporal.db_file
    db_bytes = sum(path.stat().st_size for path in db.parent.glob(db.name + "*"))
    return {"operator_rss_mb": round(rss_bytes(operator.pid) / 2**20, 1),
            "servers_rss_mb": {name: round(rss_bytes(pid) / 2**20, 1) for name, pid in stack.server_pids().items()},
            "temporal_db_mb": round(db_bytes / 2**20, 1)}


async def idle_sweep(stack: BenchStack, operator: OperatorProcess, resync: float) -> Figures:
    """From the end of one sweep to the end of the next: the window holds one whole sweep."""
    await asyncio.to_thread(wait_sweeps, operator, 1, resync)
    temporal_before, kube_before = stack.temporal_requests(), stack.apiserver_requests()
    await asyncio.to_thread(wait_sweeps, operator, 1, resync)
    temporal, kube = _temporal(stack.temporal_requests(), temporal_before), _kube(stack.apiserver_requests(),
                                                                                  kube_before)
    m = light_metrics(operator)
    return {"operator": {key: value for key, value in m.items() if key.startswith("sundial_last_sweep_")},
            "window": "from the end of a sweep to the end of the next (run accounting's polls fall in it too)",
            "temporal_requests_in_window": temporal, "kubernetes_requests_in_window": kube}


def _handled(metrics: dict[str, float]) -> float:
    """Resources the operator has handled since it started: reconciles, and resumes that needed none."""
    return sum(value for key, value in metrics.items()
               if key.startswith(("sundial_reconciles_total", "sundial_resumes_total")))


async def restart(stack: BenchStack, operator: OperatorProcess, n: int, resync: float, quiet: float) -> Figures:
    """Stop the operator, start it again, and count until every resource is confirmed: its first
    sweep is done, its index holds all N, and for ``quiet`` seconds it handled no resource (reconcile
    or resume) and made no Kubernetes read or write. The sweeps' own calls (one list per page, the
    rolling full check's describes) go on meanwhile and are in the counts; ``sweeps`` says how many
    ran. (Without the index condition a slow initial listing passed for quiet in the first run.)"""
    operator.stop()
    temporal_before, kube_before = stack.temporal_requests(), stack.apiserver_requests()
    started = time.monotonic()
    await asyncio.to_thread(operator.start, 300.0)
    figures: Figures = {"seconds_to_started": round(time.monotonic() - started, 1)}
    return {**figures, **await asyncio.to_thread(_until_quiet, stack, operator, temporal_before, kube_before,
                                                 started, quiet, n, 3 * resync + 600 + n)}


def _until_quiet(stack: BenchStack, operator: OperatorProcess, temporal_before: dict[str, float],
                 kube_before: dict[str, float], started: float, quiet: float, n: int, timeout: float) -> Figures:
    last: tuple[float, ...] = ()
    at_change: tuple[dict[str, float], dict[str, float], dict[str, float]] = (temporal_before, kube_before, {})
    at_sweep = at_change
    changed_at, first_sweep_at = started, None
    while True:
        temporal, kube, m = stack.temporal_requests(), stack.apiserver_requests(), light_metrics(operator)
        k = _kube(kube, kube_before)
        signature = (_handled(m), _sum(k, WRITE_VERBS), _sum(k, READ_VERBS))
        now = time.monotonic()
        if signature != last:
            last, changed_at, at_change = signature, now, (temporal, kube, m)
        if first_sweep_at is None and m.get(SWEEPS, 0.0) >= 1:
            first_sweep_at, at_sweep = now, (temporal, kube, m)
        indexed = sum(value for key, value in m.items() if key.startswith("sundial_schedules{"))
        if first_sweep_at is not None and indexed >= n and now - changed_at >= quiet:
            break  # kopf's listing is complete (all N indexed) and nothing happened for ``quiet`` s
        if now - started > timeout:
            raise TimeoutError("the restarted operator did not go quiet")
        time.sleep(1.0)
    final = at_sweep if first_sweep_at > changed_at else at_change  # the counts when all was confirmed
    t, k, m = _temporal(final[0], temporal_before), _kube(final[1], kube_before), final[2]
    return {"seconds_to_confirmed": round(max(changed_at, first_sweep_at) - started, 1),
            "seconds_to_first_sweep_done": round(first_sweep_at - started, 1),
            "temporal_requests": t, "temporal_schedule_calls": _schedule_calls(t),
            "kubernetes_requests": k, "kubernetes_writes": _sum(k, WRITE_VERBS),
            "kubernetes_reads": _sum(k, READ_VERBS), "sweeps": m.get(SWEEPS, 0.0),
            "full_checks_per_sweep": m.get("sundial_last_sweep_full_checks"),
            "operator_handled": {key: v for key, v in m.items()
                                 if key.startswith(("sundial_reconciles_total", "sundial_resumes_total"))},
            "operator_rss_mb_after": round(rss_bytes(operator.pid) / 2**20, 1), "quiet_seconds": quiet}


async def drift(stack: BenchStack, operator: OperatorProcess, temporal: Client, keys: list[tuple[str, str]],
                resync: float, every: int) -> Figures:
    """Delete every ``every``-th Temporal schedule out of band; time until the operator recreated all."""
    victims = [ScheduleIdentity(stack.cluster_id(), ns, name, "").schedule_id for ns, name in keys[::every]]
    before = light_metrics(operator).get(REPAIRED_MISSING, 0.0)
    temporal_before, kube_before = stack.temporal_requests(), stack.apiserver_requests()
    delete_seconds = await wl.delete_schedules(temporal, victims)
    deleted_at, deleted_wall = time.monotonic(), time.time()
    await asyncio.to_thread(wl.wait_for, "repairs", lambda: light_metrics(operator).get(REPAIRED_MISSING, 0.0)
                            >= before + len(victims), 3 * resync + 300 + len(victims), POLL)
    to_repaired = time.monotonic() - deleted_at
    all_back = await wl.all_exist(temporal, victims)
    await asyncio.to_thread(wl.wait_for, "the repairing sweep to end", lambda: light_metrics(operator).get(
        "sundial_last_sweep_timestamp_seconds", 0.0) > deleted_wall, 3 * resync + 300, POLL)
    m = light_metrics(operator)
    t, k = _temporal(stack.temporal_requests(), temporal_before), _kube(stack.apiserver_requests(), kube_before)
    return {"deleted": len(victims), "delete_seconds": round(delete_seconds, 1),
            "seconds_to_all_repaired": round(to_repaired, 1), "all_back": all_back,
            "repairing_sweep_seconds": m.get("sundial_last_sweep_duration_seconds"), "resync_seconds": resync,
            "temporal_requests": t, "kubernetes_requests": k}
