"""One side-by-side round: Sundial or the Go peer, measured the same way on the same stack.

Each round uses fresh namespaces (50 schedules to a namespace) and a fresh operator
process at its default settings (Sundial: resync 60 s; the peer: a 5-minute requeue per
schedule, one reconcile at a time), creates N equivalent schedules (same cron, zone,
workflow type, task queue, run timeout, retry and overlap policy, and input) through the
Kubernetes API with 16 threads, and measures:

- seconds until Temporal's frontend has answered N ``CreateSchedule`` requests (its own
  counter), and until all N resources are ``Ready=True`` (every 0.5 s, one list per
  namespace not yet all Ready);
- the operator's CPU seconds (``/proc``) in that window, its RSS at rest;
- Temporal frontend requests during an idle window (nothing changes), net of what the
  dev server does with no operator at all (measured once per run), scaled to 10 minutes;
- seconds until all of every tenth schedule, deleted out of band, exist again (a describe,
  every second, of each not yet back; the deadline grows with the time to all Ready).
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from kubernetes import client
from temporalio.client import Client

from bench import workload as wl
from bench.peer_stack import (
    DEV_SERVER,
    PEER_GROUP,
    PEER_VERSION_API,
    PeerStack,
    make_dev_servers,
    mark_dev_servers_ready,
)
from bench.peer_waits import (
    expected_per_namespace,
    fraction_marks,
    pending_namespaces,
    repair_deadline,
    wait_all_back,
)
from bench.rounds import Figures, delta
from bench.stack import cpu_seconds, rss_bytes
from sundial.domain.desired import ScheduleIdentity, cluster_prefix

PEER_PLURAL = "temporalschedules"
TEN_MINUTES = 600.0
SCHEDULE_OPERATIONS = ("CreateSchedule", "DescribeSchedule", "ListSchedules", "UpdateSchedule",
                       "PatchSchedule", "DeleteSchedule")


def peer_schedule_id(namespace: str, name: str) -> str:
    return f"peer.{namespace}.{name}"


def peer_body(namespace: str, name: str) -> dict[str, Any]:
    """The peer's TemporalSchedule equivalent to Sundial's bench schedule (same Temporal schedule)."""
    sid = peer_schedule_id(namespace, name)
    _, schedule, _ = wl.plain_schedule_ids(1, "peer")[0]
    args = [dict(schedule.action.args[0], schedule_id=sid, tenant_id=namespace)]
    return {
        "apiVersion": f"{PEER_GROUP}/{PEER_VERSION_API}", "kind": "TemporalSchedule",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "clusterRef": {"kind": "TemporalDevServer", "name": DEV_SERVER}, "namespace": "default",
            "scheduleID": sid, "allowDeletion": True,
            "schedule": {"calendars": list(schedule.spec.cron_expressions),
                         "timezoneName": schedule.spec.time_zone_name},
            "action": {"startWorkflow": {
                "workflowType": schedule.action.workflow, "taskQueue": schedule.action.task_queue,
                "workflowID": sid, "args": args, "workflowRunTimeout": "600s",
                "retryPolicy": {"maximumAttempts": 1}}},
            "policies": {"overlapPolicy": "Skip", "catchupWindow": "1h"},
        },
    }


def create_peer_resources(api: client.ApiClient, keys: list[tuple[str, str]]) -> float:
    custom = client.CustomObjectsApi(api)

    def create(key: tuple[str, str]) -> None:
        custom.create_namespaced_custom_object(PEER_GROUP, PEER_VERSION_API, key[0], PEER_PLURAL, peer_body(*key))

    started = time.monotonic()
    wl._threads(create, keys)
    return time.monotonic() - started


def ready_per_namespace(api: client.ApiClient, namespaces: Iterable[str], group: str, plural: str
                        ) -> dict[str, int]:
    """How many resources each namespace's list shows ``Ready=True``."""
    custom, ready = client.CustomObjectsApi(api), {}
    for namespace in namespaces:
        listing: Any = custom.list_namespaced_custom_object(group, "v1alpha1", namespace, plural)
        ready[namespace] = sum(
            any(c.get("type") == "Ready" and c.get("status") == "True"
                for c in (item.get("status") or {}).get("conditions") or [])
            for item in listing["items"])
    return ready


def wait_created_and_ready(stack: PeerStack, api: client.ApiClient, keys: list[tuple[str, str]], group: str,
                           plural: str, creates_before: float, started: float, timeout: float
                           ) -> tuple[float, float]:
    """(seconds to N CreateSchedule answered, seconds to all N Ready), both from ``started``.

    A namespace whose list has shown all its resources Ready is not listed again."""
    n, expected = len(keys), expected_per_namespace(keys)
    pending, created_at, ready_at = set(expected), None, None
    while ready_at is None or created_at is None:
        now = time.monotonic()
        if now - started > timeout:
            raise TimeoutError(f"not all {n} created and Ready within {timeout:g}s "
                               f"({len(pending)} namespaces not all Ready)")
        if created_at is None and stack.temporal_requests().get("CreateSchedule", 0.0) - creates_before >= n:
            created_at = now
        if ready_at is None:
            pending = pending_namespaces({ns: expected[ns] for ns in pending},
                                         ready_per_namespace(api, sorted(pending), group, plural))
            ready_at = None if pending else now
        time.sleep(0.5)
    return created_at - started, ready_at - started


def net_requests(after: dict[str, float], before: dict[str, float], background: dict[str, float],
                 window: float) -> dict[str, float]:
    """Frontend requests per 10 minutes by operation, net of the server's own background."""
    scale = TEN_MINUTES / window
    result = {}
    for op, value in after.items():
        if op.endswith(" seconds"):
            continue
        net = (value - before.get(op, 0.0)) * scale - background.get(op, 0.0)
        if net >= 0.5:
            result[op] = round(net, 1)
    return result


async def background_requests(stack: PeerStack, window: float) -> dict[str, float]:
    """What the dev server's frontend serves per 10 minutes with no operator running."""
    before = stack.temporal_requests()
    await asyncio.sleep(window)
    return net_requests(stack.temporal_requests(), before, {}, window)


async def side_round(stack: PeerStack, temporal: Client, side: str, n: int, round_id: str,
                     idle: float, background: dict[str, float], logs: Path | None = None) -> Figures:
    """One measured round; with ``logs``, the operator's log is kept there (the stack's folder goes)."""
    api = stack.kube_api()
    keys = wl.names(n, f"{side[0]}{round_id}")
    namespaces = sorted({ns for ns, _ in keys})
    wl.create_namespaces(api, keys)
    if side == "peer":
        make_dev_servers(api, namespaces)
        operator: Any = stack.peer_process(f"peer-{round_id}", namespaces)
        operator.start()
        await asyncio.to_thread(mark_dev_servers_ready, api, namespaces, operator)
        group, plural, create = PEER_GROUP, PEER_PLURAL, create_peer_resources
        victims = [peer_schedule_id(ns, name) for ns, name in keys[::10]]
        prefix = "peer.bench-"
    else:
        operator = stack.operator(f"sundial-{round_id}", SCHEDULE_MAX_PER_NAMESPACE=str(wl.PER_NAMESPACE),
                                  SCHEDULE_MAX_PER_USER=str(n + 1))
        operator.start()
        group, plural, create = wl.GROUP, wl.PLURAL, wl.create_resources
        cluster_id = stack.cluster_id()
        victims = [ScheduleIdentity(cluster_id, ns, name, "").schedule_id for ns, name in keys[::10]]
        prefix = cluster_prefix(cluster_id)
    try:
        figures = await _measure(stack, temporal, api, operator, keys, namespaces, group, plural, create,
                                 victims, idle, background)
        figures["rss_mb_at_start"] = figures.pop("_rss_start")
    finally:
        operator.stop()
        if logs is not None:
            workdir = stack.workdir / f"{side}-{round_id}"
            shutil.copytree(workdir, logs / workdir.name, dirs_exist_ok=True, ignore=shutil.ignore_patterns("hosts"))
        await asyncio.to_thread(_cleanup, api, keys, namespaces, group, plural, side == "peer")
        await wl.delete_schedules(temporal, await wl.schedule_ids(temporal, prefix))
    figures["side"] = side
    return figures


async def _measure(stack: PeerStack, temporal: Client, api: client.ApiClient, operator: Any,
                   keys: list[tuple[str, str]], namespaces: list[str], group: str, plural: str,
                   create: Callable[[client.ApiClient, list[tuple[str, str]]], float], victims: list[str],
                   idle: float, background: dict[str, float]) -> Figures:
    n, pid = len(keys), operator.pid
    rss_start = rss_bytes(pid)
    cpu_before, temporal_before, kube_before = cpu_seconds(pid), stack.temporal_requests(), \
        stack.apiserver_requests()
    started = time.monotonic()
    await asyncio.to_thread(create, api, keys)
    to_created, to_ready = await asyncio.to_thread(wait_created_and_ready, stack, api, keys, group, plural,
                                                   temporal_before.get("CreateSchedule", 0.0), started,
                                                   120 + 3 * n)
    cpu_create = cpu_seconds(pid) - cpu_before
    temporal_after, kube_after = stack.temporal_requests(), stack.apiserver_requests()

    await asyncio.sleep(15)  # settle: status updates and their watch events
    idle_before, idle_cpu, idle_kube = stack.temporal_requests(), cpu_seconds(pid), stack.apiserver_requests()
    await asyncio.sleep(idle)
    idle_after = stack.temporal_requests()
    idle_calls = net_requests(idle_after, idle_before, background, idle)
    kube_idle = delta(stack.apiserver_requests(), idle_kube)
    rss_rest, cpu_idle = rss_bytes(pid), cpu_seconds(pid) - idle_cpu

    await wl.delete_schedules(temporal, victims)
    back_after = await wait_all_back(temporal, victims, repair_deadline(to_ready))
    return {
        "n": n, "seconds_to_all_created": round(to_created, 2), "seconds_to_all_ready": round(to_ready, 2),
        "throughput_per_s": round(n / to_ready, 1), "operator_cpu_seconds_create": round(cpu_create, 2),
        "operator_cpu_ms_per_schedule": round(1000 * cpu_create / n, 1),
        "temporal_requests_create": delta(temporal_after, temporal_before),
        "kubernetes_requests_create": delta(kube_after, kube_before),
        "idle_window_seconds": idle, "idle_temporal_requests_per_10min": idle_calls,
        "idle_schedule_calls_per_10min": round(sum(v for k, v in idle_calls.items() if k in SCHEDULE_OPERATIONS), 1),
        "idle_temporal_calls_per_10min": round(sum(idle_calls.values()), 1),
        "idle_kubernetes_requests": kube_idle, "idle_operator_cpu_seconds": round(cpu_idle, 2),
        "rss_mb_at_rest": round(rss_rest / 2**20, 1), "_rss_start": round(rss_start / 2**20, 1),
        "repair_deleted": len(victims), "seconds_to_all_repaired": round(max(back_after.values()), 2),
        "repair_back_after_seconds": fraction_marks(back_after.values()),
    }


def _cleanup(api: client.ApiClient, keys: list[tuple[str, str]], namespaces: list[str], group: str,
             plural: str, peer: bool) -> None:
    """With the operator stopped: drop finalizers and delete what the round made (not measured)."""
    custom = client.CustomObjectsApi(api)
    items = [(ns, plural, name) for ns, name in keys]
    if peer:
        items += [(ns, "temporaldevservers", DEV_SERVER) for ns in namespaces]

    def remove(item: tuple[str, str, str]) -> None:
        namespace, kind, name = item
        custom.patch_namespaced_custom_object(group, "v1alpha1", namespace, kind, name,
                                              {"metadata": {"finalizers": None}})
        custom.delete_namespaced_custom_object(group, "v1alpha1", namespace, kind, name)

    wl._threads(remove, items)
