"""The operator's few long-running tasks (one each per operator, never one per resource).

Started from kopf's startup handler, cancelled in its cleanup: the metrics endpoint and
the drift sweeper live here (the run accounting loop and the memory release join them). The
operator's indexes of the Schedules (``schedule_index``) fill in as kopf lists and watches, so
the loops read them without any Kubernetes call.
To add a loop: ``tasks.spawn("name", loop(..., tasks.stop))``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from sundial.adapters.kube import KubeGateway
from sundial.adapters.temporal import TemporalGateway
from sundial.controller.accounting import index_reader, run_accounting_loop
from sundial.controller.context import OperatorContext
from sundial.controller.credentials import follow_api_key_file
from sundial.controller.index_readiness import IndexReadiness
from sundial.controller.memory import release_memory_loop
from sundial.controller.metrics import METRICS, bind_operator, serve_metrics
from sundial.controller.peering import PeerGate, peer_gate
from sundial.controller.policies import PolicyWatch
from sundial.controller.reconcile import reconcile
from sundial.controller.schedule_index import ScheduleIndexes
from sundial.controller.sweeper import SweepConfig, Sweeper
from sundial.domain.validation import Peers
from sundial.logs import decision


@dataclass
class AttributedKube(KubeGateway):
    """The operator's KubeGateway for one loop: ``writes`` counts that loop's own writes (so a
    sweep's figures are not mixed with run accounting's), ``total`` stays the operator's tally."""

    total: dict[str, int] = field(default_factory=dict)

    def _count(self, what: str) -> None:
        super()._count(what)
        self.total[what] = self.total.get(what, 0) + 1

    @classmethod
    def of(cls, kube: KubeGateway) -> AttributedKube:
        return cls(api=kube.api, total=kube.writes)


@dataclass
class BackgroundTasks:
    """Handles of the tasks started at start-up, so cleanup can stop them."""

    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    runners: list[web.AppRunner] = field(default_factory=list)
    sweeper: Sweeper | None = None
    gate: PeerGate | None = None
    policy_watch: PolicyWatch | None = None

    def spawn(self, name: str, coro: Coroutine[Any, Any, None]) -> None:
        self.tasks.append(asyncio.create_task(coro, name=f"sundial {name}"))

    async def close(self) -> None:
        self.stop.set()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for runner in self.runners:
            await runner.cleanup()


async def _repair(ctx: OperatorContext, indexes: ScheduleIndexes, body: Mapping[str, Any],
                  siblings: Sequence[tuple[str, str]]) -> None:
    """The sweeper's repair: the reconcile, with the creator's schedules for the per-user quota."""
    await reconcile(ctx, body, Peers(namespace=list(siblings), creator=indexes.creator_peers(body)))


def _gate(ctx: OperatorContext, options: object) -> PeerGate:
    """The peering gate: ``sundial run`` drew the priority it gave kopf (``OperatorOptions.peering_priority``)."""
    if not isinstance(ctx.kube, KubeGateway):
        return PeerGate()
    return peer_gate(ctx.settings.peering_name, getattr(options, "peering_priority", None), ctx.kube.get_peering,
                     tuple(getattr(options, "namespaces", ()) or ()))


async def start_background_tasks(ctx: OperatorContext, options: object, indexes: ScheduleIndexes,
                                 policy_statuses: Mapping[str, Iterable[dict[str, Any]]]) -> BackgroundTasks:
    """Start the metrics endpoint and every background loop of the operator."""
    background = BackgroundTasks()
    namespaces = tuple(getattr(options, "namespaces", ()) or ())
    readiness = IndexReadiness(ctx.kube, namespaces)  # one count for the handlers' wait and the sweep's
    background.spawn("listing", indexes.follow_listing(readiness))  # every replica's own
    bind_operator(METRICS, ctx.temporal, ctx.kube, indexes.by_key, indexes.metrics)
    port = int(getattr(options, "metrics_port", 0) or 0)
    if port:
        background.runners.append(await serve_metrics(METRICS, port, ctx.settings.bind_address))
    config = SweepConfig.from_settings(ctx.settings, namespaces=namespaces)
    METRICS.sweep_interval.set(config.interval_seconds)
    own_kube = AttributedKube.of(ctx.kube) if isinstance(ctx.kube, KubeGateway) else ctx.kube
    own = dataclasses.replace(ctx, kube=own_kube)  # the sweeper's own Kubernetes calls
    sweeper = Sweeper(own, indexes.by_key, indexes.by_namespace, functools.partial(_repair, own, indexes), config,
                      readiness=readiness)
    background.sweeper = sweeper
    # With several replicas only kopf's active peer runs the loops (``peering``); the API key and
    # the metrics endpoint are every replica's own.
    gate = background.gate = _gate(ctx, options)
    background.spawn("sweeper", sweeper.run(background.stop, gate))
    if ctx.policies is not None:  # its own tally of writes, apart from the sweeper's
        policy_kube = AttributedKube.of(ctx.kube) if isinstance(ctx.kube, KubeGateway) else ctx.kube
        policy_ctx = dataclasses.replace(ctx, kube=policy_kube)
        write = policy_kube.patch_policy_status if isinstance(policy_kube, KubeGateway) else None
        watch = PolicyWatch(policy_ctx, ctx.policies, indexes.by_namespace, indexes.refused_by_policy,
                            policy_statuses, functools.partial(_repair, policy_ctx, indexes), write)
        background.policy_watch = watch
        background.spawn("policies", watch.run(background.stop, config.interval_seconds, gate))
    background.spawn("memory", release_memory_loop(config.interval_seconds, background.stop,
                                                   METRICS.memory_release_seconds.set))  # every replica's own
    background.spawn("accounting", run_accounting_loop(ctx, ctx.settings.runs_poll_seconds, background.stop,
                                                       tracked=index_reader(indexes.accounting), active=gate))
    key_file = ctx.settings.temporal_api_key_file
    if key_file is not None and isinstance(ctx.temporal, TemporalGateway):
        client = ctx.temporal.client

        def apply(key: str) -> None:
            client.api_key = key

        background.spawn("api-key", follow_api_key_file(key_file, client.api_key, apply, background.stop,
                                                        ctx.logger))
    decision(ctx.logger, "background-started", "background tasks started", metrics_port=port or None,
             bind_address=ctx.settings.bind_address,
             resync_seconds=config.interval_seconds, orphan_policy=config.orphan_policy,
             overdue_grace_seconds=config.overdue_grace.total_seconds(), page_size=config.page_size,
             peering=ctx.settings.peering_name)
    return background
