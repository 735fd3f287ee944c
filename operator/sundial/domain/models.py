"""The Schedule resource as typed, frozen models: the one source of the public schema.

Field names on the wire are SPEC.md's camelCase; Python attributes are snake_case. Every
field's docstring becomes its ``description`` in the generated CRD, and so the text of
``kubectl explain schedule.spec``. Structural limits (types, enums, ranges, lengths) live
here and in the CRD alike; rules that need computation (cron, time zone, minimum interval,
the operator's budget cap) live in :mod:`sundial.domain.rules`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal, Self, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from sundial.errors import SpecInvalid

OverlapPolicy = Literal["Skip", "BufferOne", "BufferAll", "CancelOther", "TerminateOther", "AllowAll"]
Phase = Literal["Pending", "Active", "Paused", "Invalid", "Error", "Deleting"]
ConditionStatus = Literal["True", "False", "Unknown"]
M = TypeVar("M", bound=BaseModel)

_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|h|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


class InvalidDuration(ValueError):
    """A duration string that is not Go-style ``1h30m``, ``90s``, ``500ms``."""


def parse_duration(text: str) -> timedelta:
    """Parse a Go-style duration (units h, m, s, ms; e.g. ``1h30m``, ``90s``, ``0``)."""
    hint = "use a number with a unit (h, m, s, ms), e.g. 30s, 5m or 1h30m"
    if not isinstance(text, str) or not text or not text.isascii():
        raise InvalidDuration(f"{text!r} is not a duration; {hint}")
    if text == "0":
        return timedelta(0)
    position, seconds = 0, 0.0
    while position < len(text):
        match = _DURATION_PART.match(text, position)
        if match is None:
            raise InvalidDuration(f'"{text}" is not a duration; {hint}')
        seconds += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if seconds > timedelta.max.total_seconds() / 2:
        raise InvalidDuration(f'"{text}" is too long a duration')
    return timedelta(seconds=seconds)


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        use_attribute_docstrings=True,
    )

    def to_body(self) -> dict[str, Any]:
        """The wire form: camelCase keys, JSON types, unset optional fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# --- spec ----------------------------------------------------------------------------------


class TaskSpec(_Model):
    """The agent task: becomes the single argument of ScheduledTaskWorkflow."""

    query: str = Field(min_length=1)
    """What the agent is asked to do on every run, e.g. "Generate a daily news digest about AI"."""
    context: dict[str, Any] = Field(default_factory=dict)
    """Free-form object handed to the task as task_context; the run's budget is added as max_budget_usd."""


class RetrySpec(_Model):
    """How Temporal retries a failed run of the workflow."""

    maximum_attempts: int = Field(default=1, ge=0)
    """Attempts per run, the first included; 1 means no retry, 0 means unlimited (Temporal's convention)."""


class WorkflowSpec(_Model):
    """What each run starts; omitted values come from the operator's settings."""

    type: str | None = Field(default=None, min_length=1, max_length=255)
    """Workflow type to start; default: the operator's SUNDIAL_DEFAULT_WORKFLOW_TYPE
    (ScheduledTaskWorkflow)."""
    task_queue: str | None = Field(default=None, min_length=1, max_length=255)
    """Task queue the workflow runs on; default: the operator's SUNDIAL_DEFAULT_TASK_QUEUE."""
    args: list[Any] | None = None
    """Free-form JSON list passed as the workflow's arguments; only allowed when spec.task is absent."""
    retry: RetrySpec = Field(default_factory=RetrySpec)
    """Retry policy of each run."""


class PolicySpec(_Model):
    """What happens when runs overlap, are missed, fail or cost too much."""

    overlap: OverlapPolicy = "Skip"
    """When a run is due while the previous one still runs: Skip, BufferOne, BufferAll, CancelOther,
    TerminateOther or AllowAll (Temporal's overlap policies)."""
    catchup_window: str = Field(default="1h", max_length=32)
    """How late a run missed during an outage may still start, as a duration such as 10m or 1h."""
    max_consecutive_failures: int = Field(default=3, ge=0)
    """Pause the schedule after this many failed runs in a row (Paused reason ConsecutiveFailures);
    0 means never."""
    max_total_budget_usd: float | None = Field(default=None, alias="maxTotalBudgetUSD", ge=0)
    """Pause the schedule once status.cost.totalUSD reaches this many US dollars (reason BudgetExhausted)."""


class HistorySpec(_Model):
    """How many finished runs status.recentRuns keeps, like a CronJob's history limits."""

    successful_runs_limit: int = Field(default=3, ge=0, le=100)
    """Successful runs kept in status.recentRuns."""
    failed_runs_limit: int = Field(default=3, ge=0, le=100)
    """Failed runs kept in status.recentRuns."""


class ScheduleSpec(_Model):
    """A Temporal schedule declared as a Kubernetes resource: what to run, when, and within what budget."""

    display_name: str | None = Field(default=None, max_length=255)
    """Human-readable name, any Unicode text of at most 255 characters."""
    description: str | None = None
    """Free-text description of what the schedule is for."""
    schedule: str = Field(min_length=1, max_length=200)
    """When to run: a 5-field cron expression (minute hour day-of-month month day-of-week) read
    with Temporal's semantics (day-of-month AND day-of-week must both match), or one of @hourly,
    @daily, @weekly, @monthly, @yearly (also @annually, @midnight)."""
    time_zone: str = Field(default="UTC", min_length=1, max_length=64)
    """IANA time zone in which the cron expression is read, e.g. Asia/Tokyo."""
    start_at: AwareDatetime | None = None
    """No run before this RFC 3339 time."""
    end_at: AwareDatetime | None = None
    """No run after this RFC 3339 time; must be later than startAt."""
    jitter: str | None = Field(default=None, max_length=32)
    """Random delay of up to this duration added to each run, e.g. 30s."""
    paused: bool = False
    """Pause the schedule (like Deployment.spec.paused): no runs start until it is false again."""
    pause_reason: str = ""
    """Note written to the Temporal schedule while paused."""
    task: TaskSpec | None = None
    """The agent task each run performs; required unless spec.workflow.args is given."""
    workflow: WorkflowSpec = Field(default_factory=WorkflowSpec)
    """The workflow each run starts."""
    max_budget_per_run_usd: float = Field(default=10.0, alias="maxBudgetPerRunUSD", ge=0)
    """Most a single run may spend, in US dollars; at most the operator's SCHEDULE_MAX_BUDGET_USD."""
    timeout_seconds: int = Field(default=600, ge=1)
    """Run timeout of each workflow, in seconds."""
    policy: PolicySpec = Field(default_factory=PolicySpec)
    """Overlap, catch-up, failure and cost policies."""
    history: HistorySpec = Field(default_factory=HistorySpec)
    """How many finished runs to keep in status.recentRuns."""

    @classmethod
    def from_body(cls, body: Mapping[str, Any] | None) -> Self:
        """Parse a resource's ``spec``; a malformed one raises SpecInvalid (reason InvalidSpec)."""
        return parse_model(cls, body, "spec")


def parse_model(model: type[M], body: Mapping[str, Any] | None, prefix: str) -> M:
    """Validate ``body`` into ``model``; the first problem becomes SpecInvalid naming the field."""
    try:
        return model.model_validate(dict(body or {}))
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        field = ".".join([prefix, *(str(part) for part in error["loc"])])
        raise SpecInvalid("InvalidSpec", field, f"{field}: {_explain(error)}") from exc


def _explain(error: Mapping[str, Any]) -> str:
    kind, context, value = error["type"], error.get("ctx") or {}, error.get("input")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind == "string_too_long":
        return f"{len(str(value))} characters; the limit is {context['max_length']}"
    if kind == "greater_than_equal":
        return f"{value} is below the minimum of {context['ge']}"
    if kind == "less_than_equal":
        return f"{value} is above the maximum of {context['le']}"
    if kind == "literal_error":
        return f"{value!r} is not one of {context['expected']}"
    return f"{error['msg']} (got {value!r})" if value is not None else str(error["msg"])


# --- status --------------------------------------------------------------------------------


class Condition(_Model):
    """One kstatus-style condition: Ready, Paused, Reconciling, Stalled or Firing."""

    type: str = Field(min_length=1, max_length=64)
    """Condition type: Ready, Paused, Reconciling, Stalled or Firing."""
    status: ConditionStatus
    """True, False or Unknown."""
    reason: str = ""
    """One CamelCase word saying why, e.g. Synced, UserRequested, IntervalTooShort."""
    message: str = ""
    """Human-readable detail."""
    observed_generation: int | None = None
    """metadata.generation of the spec this condition describes."""
    last_transition_time: AwareDatetime | None = None
    """When status last changed."""


class TemporalRef(_Model):
    """Where the Temporal schedule lives and what it starts."""

    namespace: str | None = None
    """Temporal namespace."""
    schedule_id: str | None = None
    """Temporal schedule ID, deterministic per (cluster, namespace, name)."""
    workflow_type: str | None = None
    """Workflow type the schedule starts."""
    task_queue: str | None = None
    """Task queue the workflow runs on."""
    spec_hash: str | None = None
    """Hash of the schedule definition the operator last wrote, to tell drift from its own writes."""
    fingerprint: str | None = None
    """Hash of the schedule as Temporal showed it right after the operator's last write."""


class RunCounters(_Model):
    """Run outcomes counted since the schedule was created; they only grow."""

    total: int = Field(default=0, ge=0)
    """Runs finished: succeeded + failed (runs still going are in running)."""
    succeeded: int = Field(default=0, ge=0)
    """Runs that completed successfully."""
    failed: int = Field(default=0, ge=0)
    """Runs that failed, timed out, were cancelled or terminated."""
    running: int = Field(default=0, ge=0)
    """Runs still open."""
    consecutive_failures: int = Field(default=0, ge=0)
    """Failed runs since the last success."""


class CostStatus(_Model):
    """What the runs cost, as the workflows reported it."""

    total_usd: float = Field(default=0.0, alias="totalUSD", ge=0)
    """Cumulative cost of all counted runs, in US dollars."""
    last_run_usd: float | None = Field(default=None, alias="lastRunUSD", ge=0)
    """Cost of the most recently closed run, in US dollars."""


class RunRecord(_Model):
    """One finished (or running) workflow run."""

    workflow_id: str
    """Temporal workflow ID (the schedule's action ID plus the scheduled time)."""
    run_id: str | None = None
    """Temporal run ID."""
    status: str
    """Temporal execution status: RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, TIMED_OUT."""
    scheduled_time: AwareDatetime | None = None
    """When the schedule meant the run to start."""
    started_at: AwareDatetime | None = None
    """When the workflow actually started."""
    closed_at: AwareDatetime | None = None
    """When the workflow closed."""
    duration_ms: int | None = Field(default=None, ge=0)
    """Run time from start to close, in milliseconds."""
    cost_usd: float | None = Field(default=None, alias="costUSD", ge=0)
    """What the run cost, in US dollars, from its result."""
    total_tokens: int | None = Field(default=None, ge=0)
    """Tokens the run used."""
    model: str | None = None
    """Model the run used."""
    provider: str | None = None
    """Model provider the run used."""
    error: str | None = None
    """Error message of a failed run."""


class AutoPause(_Model):
    """An automatic pause the operator applied, until a resume or a spec fix."""

    reason: str
    """ConsecutiveFailures or BudgetExhausted."""
    message: str = ""
    """Human-readable detail."""
    since: AwareDatetime | None = None
    """When the operator paused the schedule."""
    generation: int | None = None
    """metadata.generation of the spec in force when it paused; a later one is a spec change."""


class RunWatermark(_Model):
    """The run accounting's bookmark, so no run is counted twice across restarts."""

    closed_through: AwareDatetime | None = None
    """Every run closed before this time has been counted."""
    counted_ids: tuple[str, ...] = ()
    """Run IDs closed at or after closedThrough that have been counted already."""
    auto_pause: AutoPause | None = None
    """The automatic pause in force, if any."""


class RequestAcks(_Model):
    """The annotation requests (``sundial resume``, ``sundial trigger``) the operator has acted on."""

    resume: str | None = None
    """The last sundial.dev/resume-requested value acted on."""
    trigger: str | None = None
    """The last sundial.dev/trigger-requested value acted on."""
    trigger_result: str | None = None
    """What became of that trigger: started, or why not."""


class ScheduleStatus(_Model):
    """What the operator observed; written only by the operator."""

    observed_generation: int | None = None
    """metadata.generation of the spec last acted on."""
    phase: Phase | None = None
    """Pending, Active, Paused, Invalid, Error or Deleting."""
    conditions: tuple[Condition, ...] = ()
    """kstatus conditions: Ready, Paused, Reconciling, Stalled, Firing."""
    temporal: TemporalRef | None = None
    """The Temporal schedule this resource manages."""
    next_run_time: AwareDatetime | None = None
    """Next run as Temporal reports it (never recomputed locally)."""
    next_run_time_local: str | None = None
    """The same instant in spec.timeZone, e.g. "2026-12-16 09:00 JST"."""
    last_run_time: AwareDatetime | None = None
    """When the last run started."""
    last_successful_time: AwareDatetime | None = None
    """When the last successful run closed."""
    runs: RunCounters = Field(default_factory=RunCounters)
    """Run counters."""
    cost: CostStatus = Field(default_factory=CostStatus)
    """Cost counters."""
    recent_runs: tuple[RunRecord, ...] = ()
    """Latest runs, newest first, bounded by spec.history."""
    last_sync_time: AwareDatetime | None = None
    """When Temporal was last brought in line with the spec."""
    accounting: RunWatermark | None = None
    """The operator's run-accounting bookmark."""
    requests: RequestAcks | None = None
    """Annotation requests already acted on, so each is acted on once."""
    kopf: dict[str, Any] | None = None
    """kopf's own handler progress (internal)."""

    @classmethod
    def from_body(cls, body: Mapping[str, Any] | None) -> Self:
        """Parse a resource's ``status`` (missing or partial is fine)."""
        return parse_model(cls, body, "status")
