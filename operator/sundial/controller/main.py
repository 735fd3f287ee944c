"""Start kopf with Sundial's handlers, settings and endpoints."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
from dataclasses import dataclass

import kopf

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


def run_operator(settings: Settings, options: OperatorOptions) -> None:
    """Block until the operator is stopped (SIGINT/SIGTERM)."""
    kopf.configure(
        verbose=options.log_level <= logging.DEBUG,
        log_format=kopf.LogFormat.JSON if options.log_format == "json" else kopf.LogFormat.FULL,
    )
    import sundial.controller.handlers

    if not options.namespaces:  # SchedulePolicies need cluster-wide reads (docs/policies.md)
        import sundial.controller.policy_handlers  # noqa: F401

    allow_deep_json()  # a deeply nested Schedule must not kill the watch stream's JSON decoding

    # Peering (several replicas): kopf pauses every operator of equal priority, so each process
    # draws its own; the highest works, the others stand by (their loops too: ``controller.peering``).
    priority = secrets.randbelow(2**31 - 1) + 1 if settings.peering_name else None
    options = dataclasses.replace(options, peering_priority=priority)
    memo = kopf.Memo(sundial_settings=settings, sundial_options=options)
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
