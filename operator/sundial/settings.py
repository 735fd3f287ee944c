"""Operator settings from the environment, declared once in a table and validated at start-up.

Each setting is one row of ``SETTINGS``: the variable, the ``Settings`` field it fills, how
its text is read and checked, and a line of help (the settings reference in ``docs/`` is
generated from these rows). Defaults are written once, on the ``Settings`` fields. A bad
value stops the operator with one line naming the variable, the value and what was
expected: a typo in a Helm value must not turn into a half-working operator.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from sundial.errors import SettingsError

ORPHAN_POLICIES = ("delete", "pause", "report")


@dataclass(frozen=True)
class Settings:
    """Everything the operator reads from its environment; the defaults are the documented ones."""

    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_tls_ca: Path | None = None
    temporal_api_key: str | None = field(default=None, repr=False)  # a secret: never in logs
    temporal_api_key_file: Path | None = None  # a mounted Secret; read on connect, re-read when it changes
    cluster_id: str | None = None  # None: the UID of the kube-system namespace
    peering_name: str | None = None  # None: standalone (one replica); set: kopf peering (several)
    operator_namespace: str | None = None  # None: the pod's namespace, else "default"
    default_task_queue: str = "sundial-tasks"
    default_workflow_type: str = "ScheduledTaskWorkflow"
    resync_seconds: float = 60.0
    full_check_seconds: float = 3600.0
    runs_poll_seconds: float = 15.0
    overdue_grace_seconds: float = 300.0
    sweep_page_size: int = 1000
    orphan_policy: str = "pause"  # deleting is an explicit choice: a wrong "orphan" is recoverable
    min_interval_minutes: int = 60
    max_per_namespace: int = 50
    max_per_user: int = 50
    max_budget_usd: float = 10.0
    max_concurrent_temporal_calls: int = 16
    worker_allowed_operations: tuple[str, ...] = ()  # the reference worker's restricted-operation policy
    bind_address: str = "0.0.0.0"  # every listener; `sundial dev` uses 127.0.0.1, the chart the pod IP
    webhook_port: int = 9443  # 0: no admission webhook server
    webhook_cert_file: Path | None = None  # no certificate: no admission webhook server
    webhook_key_file: Path | None = None
    allowed_workflow_types: tuple[str, ...] = ()  # empty: only default_workflow_type; "*": any
    allowed_task_queues: tuple[str, ...] = ()  # empty: only default_task_queue; "*": any
    max_retry_attempts: int = 5
    trigger_min_interval_minutes: int | None = None  # None: min_interval_minutes


Reader = Callable[[str, str], Any]  # (variable, raw text) -> value, or SettingsError


@dataclass(frozen=True)
class Setting:
    """One environment variable: which field it fills, how it is read, what it means."""

    env: str
    field: str
    read: Reader
    help: str

    @property
    def default(self) -> Any:
        return _DEFAULTS[self.field]


def text(name: str, raw: str) -> str:
    value = raw.strip()
    if not value:
        raise SettingsError(f"{name} is empty; leave it unset for the default {_default_of(name)!r}")
    return value


def optional_text(name: str, raw: str) -> str | None:
    return raw.strip() or None


def host_port(name: str, raw: str) -> str:
    value = text(name, raw)
    if ":" not in value:
        raise SettingsError(f"{name}={value!r} must be host:port")
    return value


def number(kind: type[int] | type[float], minimum: float) -> Reader:
    """A whole number (``int``) or a number (``float``) of at least ``minimum``."""
    def read(name: str, raw: str) -> int | float:
        try:
            value = kind(raw)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise SettingsError(f"{name}={raw!r} is not {what}") from None
        if value != value or value < minimum:  # NaN fails too
            raise SettingsError(f"{name}={raw!r} must be at least {minimum:g}")
        return value
    return read


def name_list(name: str, raw: str) -> tuple[str, ...]:
    """Comma-separated names; ``*`` alone allows any."""
    names = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    if "*" in names and len(names) > 1:
        raise SettingsError(f"{name}={raw!r}: '*' allows any name and stands alone")
    return names


def optional_number(kind: type[int], minimum: float) -> Reader:
    """Like ``number``, and an empty value means the documented fallback (None)."""
    read = number(kind, minimum)
    return lambda name, raw: read(name, raw) if raw.strip() else None


def choice(options: tuple[str, ...]) -> Reader:
    def read(name: str, raw: str) -> str:
        value = raw.strip().lower()
        if value not in options:
            raise SettingsError(f"{name}={value!r} is not one of {', '.join(options)}")
        return value
    return read


def ip_address(name: str, raw: str) -> str:
    """An IPv4 or IPv6 address to listen on (not a host name: a listener binds to one address)."""
    value = text(name, raw)
    try:
        return str(ipaddress.ip_address(value.strip("[]")))
    except ValueError:
        raise SettingsError(f"{name}={value!r} is not an IP address (e.g. 127.0.0.1, 0.0.0.0, ::1)") from None


def names(name: str, raw: str) -> tuple[str, ...]:
    """A comma-separated list of names (empty items dropped); what they must be is checked by their user."""
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def existing_file(name: str, raw: str) -> Path | None:
    if not raw:
        return None
    path = Path(raw)
    if not path.is_file():
        raise SettingsError(f"{name}={raw!r}: no such file")
    return path


SETTINGS: tuple[Setting, ...] = (
    Setting("SUNDIAL_TEMPORAL_ADDRESS", "temporal_address", host_port, "Temporal frontend, host:port"),
    Setting("SUNDIAL_TEMPORAL_NAMESPACE", "temporal_namespace", text, "Temporal namespace"),
    Setting("SUNDIAL_TEMPORAL_TLS_CERT", "temporal_tls_cert", existing_file,
            "client certificate file (mTLS); set together with the key"),
    Setting("SUNDIAL_TEMPORAL_TLS_KEY", "temporal_tls_key", existing_file, "client key file (mTLS)"),
    Setting("SUNDIAL_TEMPORAL_TLS_CA", "temporal_tls_ca", existing_file,
            "CA file that signed the server's certificate"),
    Setting("SUNDIAL_TEMPORAL_API_KEY", "temporal_api_key", optional_text,
            "API key (Temporal Cloud; implies TLS); never logged"),
    Setting("SUNDIAL_TEMPORAL_API_KEY_FILE", "temporal_api_key_file", existing_file,
            "file holding the API key (a mounted Secret); re-read when it changes"),
    Setting("SUNDIAL_CLUSTER_ID", "cluster_id", optional_text,
            "the cluster's identity in schedule IDs and memos; default: the UID of the kube-system namespace"),
    Setting("SUNDIAL_PEERING_NAME", "peering_name", optional_text,
            "kopf peering object; set for more than one replica (one works, the others stand by)"),
    Setting("SUNDIAL_OPERATOR_NAMESPACE", "operator_namespace", optional_text,
            "namespace of the operator's own objects (the sundial-install-id ConfigMap); default: the pod's"),
    Setting("SUNDIAL_DEFAULT_TASK_QUEUE", "default_task_queue", text,
            "task queue when spec.workflow.taskQueue is empty"),
    Setting("SUNDIAL_DEFAULT_WORKFLOW_TYPE", "default_workflow_type", text,
            "workflow type when spec.workflow.type is empty"),
    Setting("SUNDIAL_RESYNC_SECONDS", "resync_seconds", number(float, 1), "drift sweep period, seconds"),
    Setting("SUNDIAL_FULL_CHECK_SECONDS", "full_check_seconds", number(float, 1),
            "every schedule's action and policies are fully compared with the spec within this period, seconds"),
    Setting("SUNDIAL_RUNS_POLL_SECONDS", "runs_poll_seconds", number(float, 0.1), "run accounting period, seconds"),
    Setting("SUNDIAL_OVERDUE_GRACE_SECONDS", "overdue_grace_seconds", number(float, 0),
            "how late a run may be before Firing=False, reason Overdue"),
    Setting("SUNDIAL_SWEEP_PAGE_SIZE", "sweep_page_size", number(int, 1),
            "schedules per Temporal list page in a sweep"),
    Setting("SUNDIAL_ORPHAN_POLICY", "orphan_policy", choice(ORPHAN_POLICIES),
            "what to do with a Temporal schedule of this cluster that no Schedule claims: pause, report or delete"),
    Setting("SCHEDULE_MIN_INTERVAL_MINS", "min_interval_minutes", number(int, 0),
            "smallest gap between two runs, minutes; 0 means no minimum"),
    Setting("SCHEDULE_MAX_PER_NAMESPACE", "max_per_namespace", number(int, 1), "schedules per namespace"),
    Setting("SCHEDULE_MAX_PER_USER", "max_per_user", number(int, 1), "schedules per creator"),
    Setting("SCHEDULE_MAX_BUDGET_USD", "max_budget_usd", number(float, 0), "cap on spec.maxBudgetPerRunUSD"),
    Setting("SUNDIAL_MAX_CONCURRENT_TEMPORAL_CALLS", "max_concurrent_temporal_calls", number(int, 1),
            "bound on concurrent Temporal calls"),
    Setting("SUNDIAL_WORKER_ALLOWED_OPERATIONS", "worker_allowed_operations", names,
            "restricted operations the reference worker's runs may perform, comma-separated; default none"),
    Setting("SUNDIAL_BIND_ADDRESS", "bind_address", ip_address,
            "IP address every server of the operator listens on: liveness, metrics, webhooks "
            "(sundial dev: 127.0.0.1; the chart: the pod IP)"),
    Setting("SUNDIAL_WEBHOOK_PORT", "webhook_port", number(int, 0),
            "HTTPS port of the admission webhooks (/validate, /mutate, /finalizer); 0: off (flag --webhook-port)"),
    Setting("SUNDIAL_WEBHOOK_CERT_FILE", "webhook_cert_file", existing_file,
            "the webhooks' serving certificate (PEM), reloaded when the file changes (flag --webhook-cert)"),
    Setting("SUNDIAL_WEBHOOK_KEY_FILE", "webhook_key_file", existing_file,
            "the serving certificate's key (PEM), reloaded with it (flag --webhook-key)"),
    Setting("SUNDIAL_ALLOWED_WORKFLOW_TYPES", "allowed_workflow_types", name_list,
            "workflow types a spec may name (comma-separated; * for any); default: the default type only"),
    Setting("SUNDIAL_ALLOWED_TASK_QUEUES", "allowed_task_queues", name_list,
            "task queues a spec may name (comma-separated; * for any); default: the default queue only"),
    Setting("SUNDIAL_MAX_RETRY_ATTEMPTS", "max_retry_attempts", number(int, 1),
            "most attempts per run a spec may ask for (spec.workflow.retry.maximumAttempts)"),
    Setting("SUNDIAL_TRIGGER_MIN_INTERVAL_MINS", "trigger_min_interval_minutes", optional_number(int, 0),
            "least time between two `sundial trigger` runs, minutes; default: SCHEDULE_MIN_INTERVAL_MINS"),
)

_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(Settings)}


def _default_of(env: str) -> Any:
    return next((s.default for s in SETTINGS if s.env == env), None)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and check every setting; raise SettingsError with one clear line on the first bad one."""
    env = os.environ if env is None else env
    values = {s.field: s.read(s.env, env[s.env]) for s in SETTINGS if s.env in env}
    settings = Settings(**values)
    if (settings.temporal_tls_cert is None) != (settings.temporal_tls_key is None):
        raise SettingsError("SUNDIAL_TEMPORAL_TLS_CERT and SUNDIAL_TEMPORAL_TLS_KEY must be set together")
    if settings.temporal_api_key and settings.temporal_api_key_file:
        raise SettingsError("set SUNDIAL_TEMPORAL_API_KEY or SUNDIAL_TEMPORAL_API_KEY_FILE, not both")
    if (settings.webhook_cert_file is None) != (settings.webhook_key_file is None):
        raise SettingsError("SUNDIAL_WEBHOOK_CERT_FILE and SUNDIAL_WEBHOOK_KEY_FILE must be set together")
    if settings.webhook_port > 65535:
        raise SettingsError(f"SUNDIAL_WEBHOOK_PORT={settings.webhook_port} is not a TCP port (0-65535)")
    return settings


def read_api_key(settings: Settings) -> str | None:
    """The Temporal API key: the variable, else the file's current content (stripped)."""
    if settings.temporal_api_key_file is not None:
        return settings.temporal_api_key_file.read_text().strip() or None
    return settings.temporal_api_key
