"""The operator's Prometheus metrics, on ``prometheus_client``, served at ``/metrics``.

Each ``OperatorMetrics`` has its own registry (a test makes a fresh one; the operator uses
``METRICS``). Its attributes keep one small call style for the rest of the code:
``METRICS.sweeps.inc(result="ok")``, ``.set(value, **labels)``, ``.observe(value)``; label
names are declared here, once per metric. Counters that other parts keep themselves
(``TemporalGateway.calls``, ``KubeGateway.writes``, the resource index) are read when
scraped, through a collector bound at start-up (``bind_operator``), so the adapters stay
free of metric code. ``record_reconcile`` wraps the reconcile to count results and time it.
The process metrics (``process_resident_memory_bytes``, ``process_cpu_seconds_total``, ...)
come from the library's process collector.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import kopf
import prometheus_client as prom
from aiohttp import web
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from sundial.domain.schedule_metrics import ScheduleMetrics
from sundial.domain.schedule_metrics import render as render_schedules

if TYPE_CHECKING:
    from sundial.domain.indexed import IndexedSchedule
    from sundial.ports import KubeCounters, TemporalCounters

P = ParamSpec("P")
R = TypeVar("R")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PHASES_TTL_SECONDS = 0.5  # a scrape more often than this reads the last count
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

prom.disable_created_metrics()  # type: ignore[no-untyped-call]  # no ``*_created`` series: the names and samples stay as they were


class Counter:
    """A counter with labels given as keywords: ``inc(kind="missing")``."""

    def __init__(self, registry: prom.CollectorRegistry, name: str, help: str, *labels: str) -> None:
        self.registry, self.name = registry, name
        self.metric = prom.Counter(name, help, labels, registry=registry)

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        (self.metric.labels(**labels) if labels else self.metric).inc(amount)

    def value(self, **labels: str) -> float:
        """The current count (0 for a label set never counted)."""
        return self.registry.get_sample_value(self.name, labels) or 0.0


class Gauge:
    def __init__(self, registry: prom.CollectorRegistry, name: str, help: str, *labels: str) -> None:
        self.metric = prom.Gauge(name, help, labels, registry=registry)

    def set(self, value: float, **labels: str) -> None:
        (self.metric.labels(**labels) if labels else self.metric).set(value)


class Histogram:
    def __init__(self, registry: prom.CollectorRegistry, name: str, help: str,
                 buckets: tuple[float, ...] = DURATION_BUCKETS) -> None:
        self.metric = prom.Histogram(name, help, buckets=buckets, registry=registry)

    def observe(self, value: float) -> None:
        self.metric.observe(value)


Sample = tuple[Mapping[str, str], float]


class ReadAtScrape(Collector):
    """Metrics whose values live elsewhere, read through callbacks that ``bind_operator`` sets."""

    def __init__(self) -> None:
        self.sources: dict[str, tuple[str, str, Callable[[], Iterable[Sample]]]] = {}

    def collect(self) -> Iterator[Metric]:
        for name, (help, kind, read) in list(self.sources.items()):
            samples = list(read())
            labels = sorted({key for sample_labels, _ in samples for key in sample_labels})
            family: CounterMetricFamily | GaugeMetricFamily = (
                CounterMetricFamily(name, help, labels=labels) if kind == "counter"
                else GaugeMetricFamily(name, help, labels=labels))
            for sample_labels, value in samples:
                family.add_metric([sample_labels.get(key, "") for key in labels], value)
            yield family

    def describe(self) -> Iterator[Metric]:
        return iter(())  # names vary with the bound sources: no up-front check of duplicates


class OperatorMetrics:
    """Every metric the operator exposes, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = registry = prom.CollectorRegistry()
        self.reconciles = Counter(registry, "sundial_reconciles_total", "Reconciles by result.", "result")
        self.resumes = Counter(registry, "sundial_resumes_total", "Resources resumed at operator start, by result: "
                               "current (no Temporal call; the sweep confirms it) or reconciled.", "result")
        self.reconcile_seconds = Histogram(registry, "sundial_reconcile_duration_seconds", "Time per reconcile.")
        self.drift_repairs = Counter(registry, "sundial_drift_repairs_total",
                                     "Out-of-band changes in Temporal put back, by kind.", "kind")
        self.orphans = Counter(registry, "sundial_orphans_total", "Orphaned Temporal schedules handled, by action.",
                               "action")
        self.orphan_candidates = Gauge(registry, "sundial_orphan_candidates",
                                       "Schedules that looked orphaned in the last sweep.")
        self.install_conflicts = Gauge(registry, "sundial_install_conflicts",
                                       "Schedules with this cluster ID written by another operator install "
                                       "(two clusters share one SUNDIAL_CLUSTER_ID), last sweep.")
        self.overdue = Gauge(registry, "sundial_overdue_schedules",
                             "Schedules whose next run time passed without a run (last sweep).")
        self.sweeps = Counter(registry, "sundial_sweeps_total", "Sweeps by result.", "result")
        self.sweep_errors = Counter(registry, "sundial_sweep_errors_total",
                                    "Failed actions within sweeps, by stage.", "stage")
        self.accounting_sweeps = Counter(registry, "sundial_accounting_sweeps_total",
                                         "Run accounting sweeps by result.", "result")
        self.sweep_seconds = Histogram(registry, "sundial_sweep_duration_seconds", "Time per sweep.")
        self.last_sweep = Gauge(registry, "sundial_last_sweep_timestamp_seconds", "Unix time the last sweep finished.")
        self.last_sweep_seconds = Gauge(registry, "sundial_last_sweep_duration_seconds",
                                        "How long the last sweep took.")
        self.last_sweep_listed = Gauge(registry, "sundial_last_sweep_listed_schedules",
                                       "Temporal schedules listed by the last sweep.")
        self.last_sweep_temporal = Gauge(registry, "sundial_last_sweep_temporal_calls",
                                         "Temporal calls during the last sweep, by operation.", "operation")
        self.last_sweep_kube_writes = Gauge(registry, "sundial_last_sweep_kubernetes_writes",
                                            "Kubernetes writes during the last sweep.")
        self.last_sweep_full_checks = Gauge(registry, "sundial_last_sweep_full_checks",
                                            "Schedules the last sweep described for the rolling full check "
                                            "(ceil(N * resync / full-check period)).")
        self.last_sweep_kube_reads = Gauge(registry, "sundial_last_sweep_kubernetes_reads",
                                           "Kubernetes reads (GETs) by the last sweep.")
        self.sweep_interval = Gauge(registry, "sundial_sweep_interval_seconds",
                                    "The sweep period (SUNDIAL_RESYNC_SECONDS); the last sweep's age is compared "
                                    "to it.")
        self.active_peer = Gauge(registry, "sundial_active_peer",
                                 "1 in the process whose background loops run (standalone, or kopf peering's active "
                                 "peer), 0 in a standby.")
        self.memory_release_seconds = Gauge(registry, "sundial_last_memory_release_seconds",
                                            "How long the last periodic full garbage collection and heap trim took.")
        self.read_at_scrape = ReadAtScrape()
        self.per_schedule: Callable[[], Iterable[ScheduleMetrics]] = lambda: ()
        registry.register(self.read_at_scrape)
        prom.ProcessCollector(registry=registry)

    def callback(self, name: str, help: str, type_: str, read: Callable[[], Iterable[Sample]]) -> None:
        """Add (or re-bind, on an operator restart in one process) a metric read at scrape time."""
        self.read_at_scrape.sources[name] = (help, type_, read)

    def value(self, name: str, **labels: str) -> float:
        """One sample's current value (0 when absent), e.g. ``value("sundial_sweeps_total", result="ok")``."""
        return self.registry.get_sample_value(name, labels) or 0.0

    def render(self) -> str:
        """The operator's metrics, then one series per Schedule (rendered from the index, no API call)."""
        return prom.generate_latest(self.registry).decode() + render_schedules(self.per_schedule())


METRICS = OperatorMetrics()


def bind_operator(metrics: OperatorMetrics, temporal: TemporalCounters, kube: KubeCounters,
                  index: Mapping[tuple[str, str], Iterable[IndexedSchedule]],
                  per_schedule: Mapping[tuple[str, str], Iterable[ScheduleMetrics]] | None = None) -> None:
    """Expose the adapters' own counters, the resources' phases and the per-schedule metrics, read at scrape
    time."""
    if per_schedule is not None:
        metrics.per_schedule = lambda: [entry for store in list(per_schedule.values()) for entry in list(store)[:1]]

    def calls() -> Iterable[Sample]:
        for operation, outcomes in list(temporal.calls.items()):
            for outcome, count in list(outcomes.items()):
                yield {"operation": operation, "outcome": outcome}, float(count)

    cached: tuple[float, list[Sample]] = (0.0, [])  # counting an index of 1000 takes ~8 ms

    def phases() -> Iterable[Sample]:
        nonlocal cached
        if time.monotonic() - cached[0] < PHASES_TTL_SECONDS:
            return list(cached[1])
        counts: dict[str, int] = {}
        for store in list(index.values()):
            for indexed in store:
                phase = indexed.phase or "Pending"
                counts[phase] = counts.get(phase, 0) + 1
        cached = (time.monotonic(), [({"phase": phase}, float(n)) for phase, n in sorted(counts.items())])
        return list(cached[1])

    metrics.callback("sundial_temporal_calls_total", "Temporal calls by operation and outcome.", "counter", calls)
    metrics.callback("sundial_temporal_call_seconds_total", "Time spent in Temporal calls, by operation.",
                     "counter", lambda: [({"operation": op}, s) for op, s in list(temporal.seconds.items())])
    metrics.callback("sundial_temporal_list_pages_total", "Schedule list pages fetched.", "counter",
                     lambda: [({}, float(temporal.list_pages))])
    metrics.callback("sundial_kubernetes_writes_total", "Kubernetes writes by kind (status, event, ...).",
                     "counter", lambda: [({"kind": kind}, float(n)) for kind, n in list(kube.writes.items())])
    metrics.callback("sundial_schedules", "Schedule resources by status phase.", "gauge", phases)


def reconcile_result(exc: BaseException | None) -> str:
    """ok | refused (permanent, e.g. invalid spec) | retry (e.g. Temporal away) | cancelled | error."""
    if exc is None:
        return "ok"
    if isinstance(exc, kopf.PermanentError):
        return "refused"
    if isinstance(exc, kopf.TemporaryError):
        return "retry"
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    return "error"


def record_reconcile(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Count each call's result and time it in ``METRICS``."""
    @functools.wraps(fn)
    async def recorded(*args: P.args, **kwargs: P.kwargs) -> R:
        started, failure = time.monotonic(), None
        try:
            return await fn(*args, **kwargs)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            METRICS.reconciles.inc(result=reconcile_result(failure))
            METRICS.reconcile_seconds.observe(time.monotonic() - started)
    return recorded


async def serve_metrics(metrics: OperatorMetrics, port: int, host: str = "127.0.0.1") -> web.AppRunner:
    """Serve ``GET /metrics`` on ``host`` (``SUNDIAL_BIND_ADDRESS``) until the runner is cleaned up."""
    async def handle(_: web.Request) -> web.Response:
        return web.Response(body=metrics.render().encode(), headers={"Content-Type": CONTENT_TYPE})

    app = web.Application()
    app.router.add_get("/metrics", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


def record_sweep(m: OperatorMetrics, listed: int, orphans_seen: int, overdue: int, elapsed: float,
                 temporal_calls: Mapping[str, int], kube_writes: int, kube_reads: int) -> None:
    """The figures of one successful sweep (its Temporal calls by operation, its Kubernetes reads/writes)."""
    m.sweeps.inc(result="ok")
    m.sweep_seconds.observe(elapsed)
    m.last_sweep.set(time.time())
    m.last_sweep_seconds.set(elapsed)
    m.last_sweep_listed.set(listed)
    for operation, count in temporal_calls.items():
        m.last_sweep_temporal.set(count, operation=operation)
    m.last_sweep_kube_writes.set(kube_writes)
    m.last_sweep_kube_reads.set(kube_reads)
    m.orphan_candidates.set(orphans_seen)
    m.overdue.set(overdue)
