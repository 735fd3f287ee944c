"""Operator settings from the environment (SPEC.md section 6), validated once at start-up.

A bad value stops the operator with one line naming the variable, the value and what
was expected: a typo in a Helm value must not turn into a half-working operator.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sundial.errors import SettingsError

ORPHAN_POLICIES = ("delete", "pause", "report")
T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """Everything the operator reads from its environment."""

    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_tls_ca: Path | None = None
    temporal_api_key: str | None = None
    cluster_id: str | None = None  # None: the UID of the kube-system namespace
    default_task_queue: str = "sundial-tasks"
    default_workflow_type: str = "ScheduledTaskWorkflow"
    resync_seconds: float = 60.0
    runs_poll_seconds: float = 15.0
    overdue_grace_seconds: float = 300.0
    sweep_page_size: int = 1000
    orphan_policy: str = "delete"
    min_interval_minutes: int = 60
    max_per_namespace: int = 50
    max_per_user: int = 50
    max_budget_usd: float = 10.0
    max_concurrent_temporal_calls: int = 16


def _number(name: str, raw: str, kind: Callable[[str], T], minimum: float) -> T:
    try:
        value = kind(raw)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise SettingsError(f"{name}={raw!r} is not {what}") from None
    if float(value) < minimum:  # type: ignore[arg-type]
        raise SettingsError(f"{name}={raw!r} must be at least {minimum:g}")
    return value


def _path(name: str, raw: str) -> Path:
    path = Path(raw)
    if not path.is_file():
        raise SettingsError(f"{name}={raw!r}: no such file")
    return path


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and check every setting; raise SettingsError with one clear line on the first bad one."""
    env = os.environ if env is None else env
    defaults = Settings()

    def text(name: str, default: str) -> str:
        value = env.get(name, default).strip()
        if not value:
            raise SettingsError(f"{name} is empty; leave it unset for the default {default!r}")
        return value

    def optional_path(name: str) -> Path | None:
        raw = env.get(name)
        return _path(name, raw) if raw else None

    orphan_policy = env.get("SUNDIAL_ORPHAN_POLICY", defaults.orphan_policy).strip().lower()
    if orphan_policy not in ORPHAN_POLICIES:
        raise SettingsError(
            f"SUNDIAL_ORPHAN_POLICY={orphan_policy!r} is not one of {', '.join(ORPHAN_POLICIES)}"
        )
    cert = optional_path("SUNDIAL_TEMPORAL_TLS_CERT")
    key = optional_path("SUNDIAL_TEMPORAL_TLS_KEY")
    if (cert is None) != (key is None):
        raise SettingsError("SUNDIAL_TEMPORAL_TLS_CERT and SUNDIAL_TEMPORAL_TLS_KEY must be set together")
    address = text("SUNDIAL_TEMPORAL_ADDRESS", defaults.temporal_address)
    if ":" not in address:
        raise SettingsError(f"SUNDIAL_TEMPORAL_ADDRESS={address!r} must be host:port")
    return Settings(
        temporal_address=address,
        temporal_namespace=text("SUNDIAL_TEMPORAL_NAMESPACE", defaults.temporal_namespace),
        temporal_tls_cert=cert,
        temporal_tls_key=key,
        temporal_tls_ca=optional_path("SUNDIAL_TEMPORAL_TLS_CA"),
        temporal_api_key=env.get("SUNDIAL_TEMPORAL_API_KEY") or None,
        cluster_id=env.get("SUNDIAL_CLUSTER_ID") or None,
        default_task_queue=text("SUNDIAL_DEFAULT_TASK_QUEUE", defaults.default_task_queue),
        default_workflow_type=text("SUNDIAL_DEFAULT_WORKFLOW_TYPE", defaults.default_workflow_type),
        resync_seconds=_number("SUNDIAL_RESYNC_SECONDS", env.get("SUNDIAL_RESYNC_SECONDS", "60"), float, 1),
        runs_poll_seconds=_number(
            "SUNDIAL_RUNS_POLL_SECONDS", env.get("SUNDIAL_RUNS_POLL_SECONDS", "15"), float, 0.1
        ),
        overdue_grace_seconds=_number(
            "SUNDIAL_OVERDUE_GRACE_SECONDS", env.get("SUNDIAL_OVERDUE_GRACE_SECONDS", "300"), float, 0
        ),
        sweep_page_size=_number("SUNDIAL_SWEEP_PAGE_SIZE", env.get("SUNDIAL_SWEEP_PAGE_SIZE", "1000"), int, 1),
        orphan_policy=orphan_policy,
        min_interval_minutes=_number(
            "SCHEDULE_MIN_INTERVAL_MINS", env.get("SCHEDULE_MIN_INTERVAL_MINS", "60"), int, 1
        ),
        max_per_namespace=_number(
            "SCHEDULE_MAX_PER_NAMESPACE", env.get("SCHEDULE_MAX_PER_NAMESPACE", "50"), int, 1
        ),
        max_per_user=_number("SCHEDULE_MAX_PER_USER", env.get("SCHEDULE_MAX_PER_USER", "50"), int, 1),
        max_budget_usd=_number(
            "SCHEDULE_MAX_BUDGET_USD", env.get("SCHEDULE_MAX_BUDGET_USD", "10.0"), float, 0
        ),
        max_concurrent_temporal_calls=_number(
            "SUNDIAL_MAX_CONCURRENT_TEMPORAL_CALLS", env.get("SUNDIAL_MAX_CONCURRENT_TEMPORAL_CALLS", "16"),
            int, 1,
        ),
    )
