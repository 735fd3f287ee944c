"""Start kopf with Sundial's handlers, settings and endpoints."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
from dataclasses import dataclass

import kopf

from sundial.adapters.kube import load_api_client, may
from sundial.controller.liveness import allow_deep_json
from sundial.settings import Settings


@dataclass(frozen=True)
class OperatorOptions:
    """Command-line choices of ``sundial run`` (settings come from the environment)."""

    namespaces: tuple[str, ...] = ()
    liveness_port: int = 8080
    metrics_port: int = 9090
    log_format: str = "text"
    log_level: int = logging.INFO
    peering_priority: int | None = None  # drawn by ``run_operator`` when peering is on; the loops need it too


def url_host(address: str) -> str:
    """The address as the host part of a URL (IPv6 in brackets)."""
    return f"[{address}]" if ":" in address else address


POLICY_RIGHTS = (("sundial.dev", "schedulepolicies", "list"), ("sundial.dev", "schedulepolicies", "watch"),
                 ("", "namespaces", "list"), ("", "namespaces", "watch"))


def serve_policies(options: OperatorOptions) -> bool:
    """SchedulePolicies are served cluster-wide only, and only when RBAC lets the operator read them and the
    namespaces: kopf would otherwise wait for an index it can never fill, and no Schedule would be handled
    (an operator upgraded before its chart's RBAC). Without them, the settings are the limits."""
    log = logging.getLogger("sundial.controller.main")
    if options.namespaces:
        log.info("SchedulePolicies not served: the operator watches named namespaces (Roles only)")
        return False
    try:
        allowed = may(load_api_client(), POLICY_RIGHTS)
    except Exception as exc:  # the apiserver away: try to serve them; kopf reports what it cannot do
        log.warning(f"could not ask RBAC about SchedulePolicies ({type(exc).__name__}: {exc}); serving them")
        return True
    if not allowed:
        log.warning("SchedulePolicies not served: RBAC does not grant list/watch on schedulepolicies.sundial.dev "
                    "and namespaces (the chart grants them); the operator's settings are the limits")
    return allowed


def run_operator(settings: Settings, options: OperatorOptions) -> None:
    """Block until the operator is stopped (SIGINT/SIGTERM)."""
    kopf.configure(
        verbose=options.log_level <= logging.DEBUG,
        log_format=kopf.LogFormat.JSON if options.log_format == "json" else kopf.LogFormat.FULL,
    )
    import sundial.controller.handlers
    from sundial.controller.schedule_index import QuietIndexing, ScheduleIndexes

    logging.getLogger("kopf.objects").addFilter(QuietIndexing())

    if serve_policies(options):
        import sundial.controller.policy_handlers  # noqa: F401 - SchedulePolicies (docs/policies.md)

    allow_deep_json()  # a deeply nested Schedule must not kill the watch stream's JSON decoding

    # Peering (several replicas): kopf pauses every operator of equal priority, so each process
    # draws its own; the highest works, the others stand by (their loops too: ``controller.peering``).
    priority = secrets.randbelow(2**31 - 1) + 1 if settings.peering_name else None
    options = dataclasses.replace(options, peering_priority=priority)
    # kopf copies the memo per resource, shallowly: the indexes are made here, once, for all of them
    memo = kopf.Memo(sundial_settings=settings, sundial_options=options, schedule_indexes=ScheduleIndexes())
    liveness = (f"http://{url_host(settings.bind_address)}:{options.liveness_port}/healthz"
                if options.liveness_port else None)
    # Serving named namespaces, the operator may hold Roles only: no listing of namespaces or
    # CRDs cluster-wide (kopf would retry those refusals for a minute before starting).
    kopf_settings = kopf.OperatorSettings()
    kopf_settings.scanning.disabled = bool(options.namespaces)
    asyncio.run(
        kopf.operator(
            settings=kopf_settings,
            standalone=settings.peering_name is None,
            peering_name=settings.peering_name,
            priority=priority,
            clusterwide=not options.namespaces,
            namespaces=options.namespaces,
            liveness_endpoint=liveness,
            memo=memo,
        )
    )
