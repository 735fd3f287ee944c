"""The operator's shared context: settings, the two ports (``sundial.ports``), the cluster ID and a clock.

Opened once in kopf's startup handler and kept in its memo; every handler and loop gets
it, so tests can pass one with fakes of the same ports.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sundial.adapters.kube import KubeGateway, load_api_client, operator_namespace
from sundial.adapters.temporal import TemporalGateway
from sundial.controller.status_writes import VersionChain, write_status
from sundial.domain import status as st
from sundial.domain.adoption import adopted_schedule_id
from sundial.domain.desired import ScheduleIdentity
from sundial.domain.messages import bounded
from sundial.domain.policy import PolicyView
from sundial.domain.rules import Limits
from sundial.domain.translate import WorkflowDefaults
from sundial.logs import decision
from sundial.ports import KubePort, TemporalPort
from sundial.settings import Settings, read_api_key

NORMAL, WARNING = "Normal", "Warning"


@dataclass
class OperatorContext:
    """Shared clients and settings, opened in kopf's startup and kept in its memo."""

    settings: Settings
    temporal: TemporalPort
    kube: KubePort
    cluster_id: str
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger]
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    versions: VersionChain = field(default_factory=VersionChain)
    install_id: str = ""  # this operator install's identity in memos ("" in tests: not checked)
    policies: PolicyView | None = None  # SchedulePolicies and namespace labels (kopf indexes); None: none

    @property
    def limits(self) -> Limits:
        s = self.settings
        return Limits(min_interval_minutes=s.min_interval_minutes, max_per_namespace=s.max_per_namespace,
                      max_per_user=s.max_per_user, max_budget_usd=s.max_budget_usd,
                      workflow_types=s.allowed_workflow_types or (s.default_workflow_type,),
                      task_queues=s.allowed_task_queues or (s.default_task_queue,),
                      max_retry_attempts=s.max_retry_attempts)

    def limits_for(self, namespace: str) -> Limits:
        """The limits in force in ``namespace``: the settings, replaced where SchedulePolicies say so."""
        return self.policies.limits_for(namespace, self.limits) if self.policies else self.limits

    @property
    def defaults(self) -> WorkflowDefaults:
        return WorkflowDefaults(self.settings.default_workflow_type, self.settings.default_task_queue)

    @classmethod
    async def open(cls, settings: Settings, options: object,
                   logger: logging.Logger | logging.LoggerAdapter[logging.Logger]) -> OperatorContext:
        kube = KubeGateway(load_api_client())
        temporal = await TemporalGateway.connect(
            settings.temporal_address, settings.temporal_namespace, api_key=read_api_key(settings),
            tls_cert=settings.temporal_tls_cert, tls_key=settings.temporal_tls_key,
            tls_ca=settings.temporal_tls_ca, max_concurrency=settings.max_concurrent_temporal_calls, lazy=True,
        )
        cluster_id = settings.cluster_id or await kube.cluster_uid()
        install_id = await kube.install_id(operator_namespace(settings.operator_namespace))
        if install_id is None:
            decision(logger, "install-id-unavailable", "no install identity: RBAC refuses configmaps "
                     "sundial-install-id; a second install with this cluster ID cannot be detected",
                     logging.ERROR, namespace=operator_namespace(settings.operator_namespace))
        logger.info(f"cluster id {cluster_id}; install id {install_id}; Temporal {settings.temporal_address} "
                    f"namespace {settings.temporal_namespace}")
        return cls(settings=settings, temporal=temporal, kube=kube, cluster_id=cluster_id, logger=logger,
                   install_id=install_id or "")

    async def close(self) -> None:
        await self.kube.close()

    def identity(self, body: Mapping[str, Any]) -> ScheduleIdentity:
        meta = body["metadata"]
        identity = ScheduleIdentity(self.cluster_id, meta["namespace"], meta["name"], meta["uid"], self.install_id)
        return replace(identity, adopted_id=adopted_schedule_id(body, identity.schedule_id))

    async def event(self, body: Mapping[str, Any], event_type: str, reason: str, message: str) -> bool:
        """Post an Event, best effort: a refused or failed post is logged, never raised.

        Events report work (a refusal, a repair); a 403 or 429 on the post must not stop the
        status write or the sweep they report on. Returns whether the Event was posted.
        """
        meta, message = body["metadata"], bounded(message)  # Events echo user input and worker errors
        what = f"{meta['namespace']}/{meta['name']}"
        self.logger.info(f"{what}: {reason}: {message}")
        error = "refused by the apiserver (forbidden, throttled or namespace gone)"
        try:
            posted = await self.kube.post_event(meta["namespace"], meta["name"], meta["uid"], event_type,
                                                reason, message)
        except Exception as exc:  # an unreachable apiserver, a 5xx: the caller's own calls will say so
            posted, error = False, f"{type(exc).__name__}: {exc}"
        if not posted:
            decision(self.logger, "event-dropped", "Event not posted", logging.WARNING, schedule=what,
                     reason=reason, error=error[:300])
        return posted

    async def write_status(self, body: Mapping[str, Any], previous: st.Status, new: st.Status) -> None:
        """Patch only the fields that changed; nothing at all when nothing did. Conditions go on the
        resourceVersion read, rebased and retried on a conflict (``status_writes``)."""
        await write_status(self.kube, self.versions, body, previous, new)
