"""The operator's Prometheus metrics: a small registry, the text exposition format, ``/metrics``.

Why not ``prometheus_client``: Sundial needs a dozen counters, gauges and two histograms,
and the text format (version 0.0.4) is a page of code; aiohttp, which serves it, already
comes with kopf. Counters that other parts keep themselves (``TemporalGateway.calls``,
``KubeGateway.writes``, the resource index) are read when scraped, through callbacks
bound at start-up, so the adapters stay free of metric code.

``METRICS`` is the operator's one set; ``record_reconcile`` wraps the reconcile to count
results and time it.
"""

from __future__ import annotations

import asyncio
import functools
import math
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import kopf
from aiohttp import web

if TYPE_CHECKING:
    from sundial.domain.drift import IndexedSchedule
    from sundial.ports import KubeCounters, TemporalCounters

P = ParamSpec("P")
R = TypeVar("R")
F = TypeVar("F", bound="Family")
Labels = tuple[tuple[str, str], ...]
Sample = tuple[Mapping[str, str], float]
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PHASES_TTL_SECONDS = 0.5  # a scrape more often than this reads the last count
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in labels) + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


@dataclass
class Family:
    """One metric name with its HELP/TYPE and one value per label set."""

    name: str
    help: str
    type: str  # counter | gauge | histogram
    values: dict[Labels, float] = field(default_factory=dict)

    def _key(self, labels: Mapping[str, str]) -> Labels:
        return tuple(sorted((key, str(value)) for key, value in labels.items()))

    def samples(self) -> Iterable[tuple[str, Labels, float]]:
        for labels, value in sorted(self.values.items()):
            yield self.name, labels, value

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.type}"]
        lines += [f"{name}{_labels(labels)} {_number(value)}" for name, labels, value in self.samples()]
        return lines


class Counter(Family):
    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = self._key(labels)
        self.values[key] = self.values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        return self.values.get(self._key(labels), 0.0)


class Gauge(Family):
    def set(self, value: float, **labels: str) -> None:
        self.values[self._key(labels)] = value


@dataclass
class Histogram(Family):
    buckets: tuple[float, ...] = DURATION_BUCKETS
    counts: dict[Labels, list[int]] = field(default_factory=dict)

    def observe(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        counts = self.counts.setdefault(key, [0] * (len(self.buckets) + 1))
        for position, bound in enumerate((*self.buckets, math.inf)):
            if value <= bound:
                counts[position] += 1
        self.values[key] = self.values.get(key, 0.0) + value

    def samples(self) -> Iterable[tuple[str, Labels, float]]:
        for labels, counts in sorted(self.counts.items()):
            for bound, count in zip((*self.buckets, math.inf), counts, strict=True):
                yield f"{self.name}_bucket", (*labels, ("le", _number(bound))), count
            yield f"{self.name}_sum", labels, self.values[labels]
            yield f"{self.name}_count", labels, counts[-1]


@dataclass
class Callback(Family):
    """Values read from elsewhere at scrape time."""

    read: Callable[[], Iterable[Sample]] = lambda: ()

    def samples(self) -> Iterable[tuple[str, Labels, float]]:
        for labels, value in self.read():
            yield self.name, self._key(labels), value


def resident_memory_bytes() -> float:
    """This process's resident set size, from /proc (0 where there is none)."""
    try:
        with open("/proc/self/statm") as statm:
            return float(int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, IndexError):
        return 0.0


@dataclass
class OperatorMetrics:
    """Every metric the operator exposes."""

    families: list[Family] = field(default_factory=list)

    def __post_init__(self) -> None:
        def add(family: F) -> F:
            self.families.append(family)
            return family

        self.reconciles = add(Counter("sundial_reconciles_total", "Reconciles by result.", "counter"))
        self.reconcile_seconds = add(Histogram("sundial_reconcile_duration_seconds",
                                               "Time per reconcile.", "histogram"))
        self.drift_repairs = add(Counter("sundial_drift_repairs_total",
                                         "Out-of-band changes in Temporal put back, by kind.", "counter"))
        self.orphans = add(Counter("sundial_orphans_total",
                                   "Orphaned Temporal schedules handled, by action.", "counter"))
        self.orphan_candidates = add(Gauge("sundial_orphan_candidates",
                                           "Schedules that looked orphaned in the last sweep.", "gauge"))
        self.overdue = add(Gauge("sundial_overdue_schedules",
                                 "Schedules whose next run time passed without a run (last sweep).", "gauge"))
        self.sweeps = add(Counter("sundial_sweeps_total", "Sweeps by result.", "counter"))
        self.sweep_errors = add(Counter("sundial_sweep_errors_total",
                                        "Failed actions within sweeps, by stage.", "counter"))
        self.sweep_seconds = add(Histogram("sundial_sweep_duration_seconds", "Time per sweep.", "histogram"))
        self.last_sweep = add(Gauge("sundial_last_sweep_timestamp_seconds",
                                    "Unix time the last sweep finished.", "gauge"))
        self.last_sweep_seconds = add(Gauge("sundial_last_sweep_duration_seconds",
                                            "How long the last sweep took.", "gauge"))
        self.last_sweep_listed = add(Gauge("sundial_last_sweep_listed_schedules",
                                           "Temporal schedules listed by the last sweep.", "gauge"))
        self.last_sweep_temporal = add(Gauge("sundial_last_sweep_temporal_calls",
                                             "Temporal calls during the last sweep, by operation.", "gauge"))
        self.last_sweep_kube_writes = add(Gauge("sundial_last_sweep_kubernetes_writes",
                                                "Kubernetes writes during the last sweep.", "gauge"))
        self.last_sweep_kube_reads = add(Gauge("sundial_last_sweep_kubernetes_reads",
                                               "Kubernetes reads (GETs) by the last sweep.", "gauge"))
        self._callbacks: dict[str, Callback] = {}
        self.callback("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge",
                      lambda: [({}, resident_memory_bytes())])
        self.callback("process_cpu_seconds_total", "User and system CPU time spent in seconds.", "counter",
                      lambda: [({}, time.process_time())])

    def callback(self, name: str, help: str, type_: str, read: Callable[[], Iterable[Sample]]) -> None:
        """Add (or re-bind, on an operator restart in one process) a metric read at scrape time."""
        if name in self._callbacks:
            self._callbacks[name].read = read
            return
        family = Callback(name, help, type_, read=read)
        self._callbacks[name] = family
        self.families.append(family)

    def render(self) -> str:
        lines: list[str] = []
        for family in self.families:
            lines += family.render()
        return "\n".join(lines) + "\n"


METRICS = OperatorMetrics()


def bind_operator(metrics: OperatorMetrics, temporal: TemporalCounters, kube: KubeCounters,
                  index: Mapping[tuple[str, str], Iterable[IndexedSchedule]]) -> None:
    """Expose the adapters' own counters and the resources' phases, read at scrape time."""
    def calls() -> Iterable[Sample]:
        for operation, outcomes in list(temporal.calls.items()):
            for outcome, count in outcomes.items():
                yield {"operation": operation, "outcome": outcome}, float(count)

    cached: list[Any] = [0.0, []]  # (monotonic time, samples): counting a kopf index of 1000 takes ~8 ms

    def phases() -> Iterable[Sample]:
        if time.monotonic() - cached[0] < PHASES_TTL_SECONDS:
            return list(cached[1])
        counts: dict[str, int] = {}
        for store in list(index.values()):
            for indexed in store:
                phase = indexed.phase or "Pending"
                counts[phase] = counts.get(phase, 0) + 1
        cached[:] = [time.monotonic(), [({"phase": phase}, float(n)) for phase, n in sorted(counts.items())]]
        return list(cached[1])

    metrics.callback("sundial_temporal_calls_total", "Temporal calls by operation and outcome.", "counter",
                     calls)
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


async def serve_metrics(metrics: OperatorMetrics, port: int, host: str = "0.0.0.0") -> web.AppRunner:
    """Serve ``GET /metrics`` until the returned runner is cleaned up."""
    async def handle(_: web.Request) -> web.Response:
        return web.Response(body=metrics.render().encode(), headers={"Content-Type": CONTENT_TYPE})

    app = web.Application()
    app.router.add_get("/metrics", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
