"""What the benchmark does to the stack: create N schedules two ways, delete some, clean up.

The operator path creates ``Schedule`` resources through the Kubernetes API (16 threads,
namespaces of 50, a realistic tenant size) and waits until the operator's index shows
all of them Active (``sundial_schedules{phase="Active"}``), then confirms Ready=True
with one list per namespace. The ceiling path is a plain temporalio client creating the
same Temporal schedules (same spec, action, input and memo, built by the same code)
with the same concurrency as the operator's Temporal calls (16).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kubernetes import client
from temporalio.client import Client, ScheduleAlreadyRunningError
from temporalio.service import RPCError, RPCStatusCode

from sundial.adapters.temporal_mapping import build_schedule
from sundial.devstack.operator_process import OperatorProcess
from sundial.domain.desired import ScheduleIdentity
from sundial.domain.models import ScheduleSpec
from sundial.domain.translate import WorkflowDefaults, desired_from_spec

GROUP, VERSION, PLURAL = "sundial.dev", "v1alpha1", "schedules"
PER_NAMESPACE = 50
CONCURRENCY = 16
SPEC: dict[str, Any] = {
    "displayName": "Daily digest", "schedule": "0 9 * * *", "timeZone": "Asia/Tokyo",
    "task": {"query": "Generate a daily news digest about AI", "context": {"output_format": "markdown"}},
    "maxBudgetPerRunUSD": 2.0, "timeoutSeconds": 600, "policy": {"overlap": "Skip"},
}


def names(n: int, round_id: str) -> list[tuple[str, str]]:
    """(namespace, name) of N resources, PER_NAMESPACE to a namespace."""
    return [(f"bench-{round_id}-{i // PER_NAMESPACE}", f"s-{i}") for i in range(n)]


def _threads(work: Callable[[Any], Any], items: Iterable[Any], threads: int = CONCURRENCY) -> list[Any]:
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(work, items))


def create_namespaces(api: client.ApiClient, keys: list[tuple[str, str]]) -> None:
    core = client.CoreV1Api(api)
    for namespace in sorted({ns for ns, _ in keys}):
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))


def create_resources(api: client.ApiClient, keys: list[tuple[str, str]]) -> float:
    """Create the Schedule resources with 16 threads; returns the seconds it took."""
    custom = client.CustomObjectsApi(api)

    def create(key: tuple[str, str]) -> None:
        namespace, name = key
        body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Schedule",
                "metadata": {"name": name, "namespace": namespace}, "spec": SPEC}
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)

    started = time.monotonic()
    _threads(create, keys)
    return time.monotonic() - started


def wait_for(what: str, probe: Callable[[], bool], timeout: float, interval: float = 0.2) -> float:
    started = time.monotonic()
    while not probe():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what}: not within {timeout:g}s")
        time.sleep(interval)
    return time.monotonic() - started


def active(operator: OperatorProcess) -> float:
    return operator.metrics().get('sundial_schedules{phase="Active"}', 0.0)


def count_ready(api: client.ApiClient, keys: list[tuple[str, str]]) -> int:
    custom, ready = client.CustomObjectsApi(api), 0
    for namespace in sorted({ns for ns, _ in keys}):
        listing: Any = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
        for item in listing["items"]:
            conditions = (item.get("status") or {}).get("conditions") or []
            ready += any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
    return ready


def remove_resources(api: client.ApiClient, keys: list[tuple[str, str]]) -> None:
    """With the operator stopped: drop the finalizer and delete (cleanup, not measured)."""
    custom = client.CustomObjectsApi(api)

    def remove(key: tuple[str, str]) -> None:
        namespace, name = key
        custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name,
                                              {"metadata": {"finalizers": None}})
        custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)

    _threads(remove, keys)


async def retried(call: Callable[[], Awaitable[Any]], attempts: int = 5) -> Any:
    """A call retried on transient transport errors (the dev server on 2 busy cores sometimes
    drops an HTTP/2 stream); NOT_FOUND and ALREADY_EXISTS are answers, not failures."""
    for attempt in range(attempts):
        try:
            return await call()
        except ScheduleAlreadyRunningError:
            return None  # an earlier attempt got through
        except RPCError as exc:
            if exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.ALREADY_EXISTS) or attempt == attempts - 1:
                raise
            await asyncio.sleep(0.5 * (attempt + 1))
    return None


async def bounded(jobs: Iterable[Callable[[], Awaitable[Any]]], concurrency: int = CONCURRENCY) -> float:
    """Run the jobs with at most ``concurrency`` at once; returns the seconds it took."""
    slots = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[Any]]) -> None:
        async with slots:
            await retried(job)

    started = time.monotonic()
    await asyncio.gather(*(one(job) for job in jobs))
    return time.monotonic() - started


def plain_schedule_ids(n: int, round_id: str) -> list[tuple[str, Any, dict[str, str]]]:
    """The same Temporal schedules the operator would write, under another (fake) cluster ID."""
    spec = ScheduleSpec.from_body(SPEC)
    result = []
    for namespace, name in names(n, round_id):
        identity = ScheduleIdentity(f"bench-plain-{round_id}", namespace, name, f"uid-{name}")
        desired = desired_from_spec(spec, identity, WorkflowDefaults(), "", None)
        result.append((identity.schedule_id, build_schedule(desired), identity.memo()))
    return result


async def plain_creates(temporal: Client, schedules: list[tuple[str, Any, dict[str, str]]]) -> float:
    def create(sid: str, schedule: Any, memo: dict[str, str]) -> Callable[[], Awaitable[Any]]:
        return lambda: temporal.create_schedule(sid, schedule, memo=memo)

    return await bounded(create(*item) for item in schedules)


async def plain_creates_operator_pattern(temporal: Client, schedules: list[tuple[str, Any, dict[str, str]]]
                                         ) -> float:
    """The operator's Temporal calls for a new schedule: describe (not found), create, describe."""
    def create(sid: str, schedule: Any, memo: dict[str, str]) -> Callable[[], Awaitable[Any]]:
        async def calls() -> None:
            handle = temporal.get_schedule_handle(sid)
            with contextlib.suppress(RPCError):
                await retried(handle.describe)
            await retried(lambda: temporal.create_schedule(sid, schedule, memo=memo))
            await retried(handle.describe)
        return calls

    return await bounded(create(*item) for item in schedules)


async def delete_schedules(temporal: Client, ids: Iterable[str]) -> float:
    def delete(sid: str) -> Callable[[], Awaitable[Any]]:
        async def gone() -> None:
            try:
                await retried(temporal.get_schedule_handle(sid).delete)
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise
        return gone

    return await bounded(delete(sid) for sid in ids)


async def schedule_ids(temporal: Client, prefix: str) -> list[str]:
    query = f"ScheduleId STARTS_WITH '{prefix}'"
    return [entry.id async for entry in await temporal.list_schedules(query, page_size=1000)]


async def all_exist(temporal: Client, ids: list[str]) -> bool:
    async def exists(sid: str) -> bool:
        try:
            await temporal.get_schedule_handle(sid).describe()
        except Exception:
            return False
        return True

    return all(await asyncio.gather(*(exists(sid) for sid in ids)))
