"""The admission webhooks wired to the operator: its indexes in, ``domain.admission`` decides.

Started from kopf's startup handler when a port and a serving certificate are configured
(``--webhook-port``, ``SUNDIAL_WEBHOOK_CERT_FILE`` / ``_KEY_FILE``). The quota checks read the
namespace and creator indexes the operator keeps for the reconcile (``schedule_index``): no
API call per review. The indexes fill while kopf lists the resources at start-up, so a create
in the first seconds may be counted against an incomplete list; the reconcile's quota check is
the backstop.

An index learns of a new Schedule from the watch, a fraction of a second after the apiserver
stored it. Creates admitted in that window (a burst of applies, or a GitOps sync) are
remembered here until the index has them (at most ``PENDING_SECONDS``), so a burst cannot
slip past the quota at admission.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sundial.adapters.webhook_server import WebhookServer
from sundial.controller.context import OperatorContext
from sundial.domain import admission
from sundial.domain.validation import Peers

log = logging.getLogger("sundial.webhook")


PENDING_SECONDS = 30.0
Entry = tuple[str, str]  # (creationTimestamp, name or "namespace/name")


@dataclass
class Admitted:
    """Creates admitted recently, by group (a namespace, or a creator), until the index shows them."""

    clock: Callable[[], float] = time.monotonic
    _groups: dict[str, dict[str, tuple[str, float]]] = field(default_factory=dict)

    def add(self, group: str, key: str, stamp: str) -> None:
        self._groups.setdefault(group, {})[key] = (stamp, self.clock() + PENDING_SECONDS)

    def with_index(self, group: str, indexed: Iterable[Entry]) -> list[Entry]:
        """The index's entries of ``group`` plus the admitted creates it does not show yet."""
        entries = list(indexed)
        pending = self._groups.get(group)
        if not pending:
            return entries
        known, now = {key for _, key in entries}, self.clock()
        for key, (_, expires) in list(pending.items()):
            if key in known or expires < now:
                del pending[key]
        if not pending:
            del self._groups[group]
        return entries + [(stamp, key) for key, (stamp, _) in pending.items()]


@dataclass(frozen=True)
class AdmissionReviews:
    """Answers AdmissionReviews for Schedules from the operator's limits, clock and indexes."""

    ctx: OperatorContext
    by_namespace: Mapping[str, Iterable[tuple[str, str]]]  # namespace -> (creationTimestamp, name)
    by_creator: Mapping[str, Iterable[tuple[str, str]]]  # creator -> (creationTimestamp, "namespace/name")
    operator_users: Collection[str]  # who may write the creator annotation by hand
    admitted: Admitted = field(default_factory=Admitted)

    def validate(self, review: Mapping[str, Any]) -> dict[str, Any]:
        request = review["request"]
        obj = request.get("object") or {}
        namespace = request.get("namespace") or (obj.get("metadata") or {}).get("namespace", "")
        name = request.get("name") or (obj.get("metadata") or {}).get("name", "")
        creator = admission.creator_of(obj) or (request.get("userInfo") or {}).get("username", "")
        peers = Peers(namespace=self.admitted.with_index(f"ns:{namespace}", self.by_namespace.get(namespace, ())),
                      creator=self.admitted.with_index(f"user:{creator}", self.by_creator.get(creator, ())))
        now = self.ctx.clock()
        verdict = admission.validate(request, peers, self.ctx.limits_for(namespace), now, self.operator_users)
        if verdict.allowed and request.get("operation") == "CREATE" and not request.get("dryRun") and name:
            stamp = now.isoformat()
            self.admitted.add(f"ns:{namespace}", name, stamp)
            self.admitted.add(f"user:{creator}", f"{namespace}/{name}", stamp)
        if not verdict.allowed:
            log.info(f"refused {request.get('operation')} of {namespace}/{request.get('name') or ''} "
                     f"by {(request.get('userInfo') or {}).get('username')}: {verdict.code} {verdict.message}")
        return admission.review_response(request.get("uid", ""), verdict)

    def mutate(self, review: Mapping[str, Any]) -> dict[str, Any]:
        request = review["request"]
        return admission.review_response(request.get("uid", ""), admission.mutate(request))

    @staticmethod
    def add_finalizer(review: Mapping[str, Any]) -> dict[str, Any]:
        request = review["request"]
        return admission.review_response(request.get("uid", ""), admission.add_finalizer(request))


async def start_webhooks(ctx: OperatorContext, by_namespace: Mapping[str, Iterable[tuple[str, str]]],
                         by_creator: Mapping[str, Iterable[tuple[str, str]]]) -> WebhookServer | None:
    """The webhook server, listening; None when it is turned off (port 0 or no certificate)."""
    settings = ctx.settings
    if not settings.webhook_port or settings.webhook_cert_file is None or settings.webhook_key_file is None:
        why = "--webhook-port 0" if not settings.webhook_port else "no certificate (SUNDIAL_WEBHOOK_CERT_FILE)"
        log.info(f"admission webhooks off: {why}; the reconcile's checks still apply (Stalled)")
        return None
    operator_user = await ctx.kube.username()
    reviews = AdmissionReviews(ctx, by_namespace, by_creator, frozenset({operator_user} - {""}))
    server = WebhookServer(settings.bind_address, settings.webhook_port, settings.webhook_cert_file,
                           settings.webhook_key_file, reviews.validate, reviews.mutate,
                           reviews.add_finalizer)
    await server.start()
    return server
