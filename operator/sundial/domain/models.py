"""The Schedule resource as typed, frozen models: the one source of the public schema.

Field names on the wire are camelCase (docs/reference.md); Python attributes are snake_case. Every
field's docstring becomes its ``description`` in the generated CRD, and so the text of
``kubectl explain schedule.spec``. Structural limits (types, enums, ranges, lengths) live
here and in the CRD alike; rules that need computation (cron, time zone, minimum interval,
the operator's budget cap) live in :mod:`sundial.domain.rules`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sized
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final, Literal, Self, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from sundial.domain.freeform import bounded_free_form
from sundial.domain.messages import bounded, shown
from sundial.errors import SpecInvalid

#: Ceilings of numbers and dates: protobuf and Temporal take nothing larger without changing it.
MAX_TIMEOUT_SECONDS: Final = 86_400  # one day per attempt
MAX_ATTEMPTS: Final = 100  # the schema's ceiling; the operator's SUNDIAL_MAX_RETRY_ATTEMPTS is lower
EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(2101, 1, 1, tzinfo=UTC)  # Temporal's calendar stops after 2100
MAX_QUERY_LENGTH: Final = 16 * 1024
MAX_TEXT_LENGTH: Final = 4096  # description, pauseReason
MAX_TOP_LEVEL_ENTRIES: Final = 64  # keys of task.context (deeper: domain.freeform)
MAX_ARGS: Final = 16  # items of workflow.args
MAX_SCHEDULES: Final = 10  # items of spec.schedules
MAX_JITTER: Final = timedelta(days=7)
MIN_CATCHUP_WINDOW: Final = timedelta(seconds=10)  # Temporal's minimum; 0 would mean its default, one year
MAX_CATCHUP_WINDOW: Final = timedelta(days=365)

OverlapPolicy = Literal["Skip", "BufferOne", "BufferAll", "CancelOther", "TerminateOther", "AllowAll"]
M = TypeVar("M", bound=BaseModel)


def _in_years(value: datetime) -> datetime:
    # the local year first: converting year 1 at +14:00 to UTC would overflow
    if not EARLIEST.year - 1 <= value.year <= LATEST.year or not EARLIEST <= value < LATEST:
        raise ValueError(f"{value.isoformat()} is outside the years {EARLIEST.year} to {LATEST.year - 1}")
    return value


Instant = Annotated[AwareDatetime, AfterValidator(_in_years)]
FreeFormObject = Annotated[dict[str, Any], AfterValidator(bounded_free_form)]
FreeFormList = Annotated[list[Any], AfterValidator(bounded_free_form)]


class Model(BaseModel):
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


class TaskSpec(Model):
    """The agent task: becomes the single argument of ScheduledTaskWorkflow."""

    query: str = Field(min_length=1, max_length=MAX_QUERY_LENGTH)
    """What the agent is asked to do on every run, e.g. "Generate a daily news digest about AI"."""
    context: FreeFormObject = Field(default_factory=dict, max_length=MAX_TOP_LEVEL_ENTRIES)
    """Free-form object handed to the task as task_context (at most 64 keys, 32 levels deep and 64 KiB
    as JSON); the run's budget is added as max_budget_usd."""


class RetrySpec(Model):
    """How Temporal retries a failed run of the workflow."""

    maximum_attempts: int = Field(default=1, ge=1, le=MAX_ATTEMPTS)
    """Attempts per run, the first included; 1 means no retry. At most the operator's
    SUNDIAL_MAX_RETRY_ATTEMPTS (default 5); all attempts together get timeoutSeconds each."""


class WorkflowSpec(Model):
    """What each run starts; omitted values come from the operator's settings."""

    type: str | None = Field(default=None, min_length=1, max_length=255)
    """Workflow type to start; default: the operator's SUNDIAL_DEFAULT_WORKFLOW_TYPE
    (ScheduledTaskWorkflow)."""
    task_queue: str | None = Field(default=None, min_length=1, max_length=255)
    """Task queue the workflow runs on; default: the operator's SUNDIAL_DEFAULT_TASK_QUEUE."""
    args: FreeFormList | None = Field(default=None, max_length=MAX_ARGS)
    """Free-form JSON list (at most 16 items, 32 levels deep and 64 KiB as JSON) passed as the
    workflow's arguments after Sundial's own first argument; only allowed when spec.task is absent."""
    retry: RetrySpec = Field(default_factory=RetrySpec)
    """Retry policy of each run."""


class PolicySpec(Model):
    """What happens when runs overlap, are missed, fail or cost too much."""

    overlap: OverlapPolicy = "Skip"
    """When a run is due while the previous one still runs: Skip, BufferOne, BufferAll, CancelOther,
    TerminateOther or AllowAll (Temporal's overlap policies)."""
    catchup_window: str = Field(default="1h", max_length=32)
    """How late a run missed during an outage may still start, as a duration such as 10m or 1h."""
    max_consecutive_failures: int = Field(default=3, ge=0)
    """Pause the schedule after this many failed runs in a row (Paused reason ConsecutiveFailures);
    0 means never."""
    max_total_budget_usd: float | None = Field(default=None, alias="maxTotalBudgetUSD", ge=0, allow_inf_nan=False)
    """Pause the schedule once status.cost.totalUSD reaches this many US dollars (reason BudgetExhausted)."""


class HistorySpec(Model):
    """How many finished runs status.recentRuns keeps, like a CronJob's history limits."""

    successful_runs_limit: int = Field(default=3, ge=0, le=100)
    """Successful runs kept in status.recentRuns."""
    failed_runs_limit: int = Field(default=3, ge=0, le=100)
    """Failed runs kept in status.recentRuns."""


class ScheduleSpec(Model):
    """A Temporal schedule declared as a Kubernetes resource: what to run, when, and within what budget."""

    display_name: str | None = Field(default=None, max_length=255)
    """Human-readable name, any Unicode text of at most 255 characters."""
    description: str | None = Field(default=None, max_length=MAX_TEXT_LENGTH)
    """Free-text description of what the schedule is for."""
    schedule: str | None = Field(default=None, min_length=1, max_length=200)
    """When to run: a 5-field cron expression (minute hour day-of-month month day-of-week) read
    with Temporal's semantics (day-of-month AND day-of-week must both match), one of @hourly,
    @daily, @weekly, @monthly, @yearly (also @annually, @midnight), or an interval: @every 90m,
    @every 1h/15m (every hour, 15 minutes past; counted from the Unix epoch in UTC). Exactly one
    of schedule and schedules."""
    schedules: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        default=None, min_length=1, max_length=MAX_SCHEDULES)
    """Several crons or intervals (as in schedule) for what one cron cannot say, e.g.
    ["0 9 * * 1-5", "0 12 * * 6,0"]; the schedule runs at their union, once per instant, and
    the minimum interval applies to that union. At most 10; exactly one of schedule and schedules."""
    time_zone: str = Field(default="UTC", min_length=1, max_length=64)
    """IANA time zone in which the cron expressions are read, e.g. Asia/Tokyo; intervals (@every)
    do not depend on it."""
    start_at: Instant | None = None
    """No run before this RFC 3339 time (between 1970 and 2100)."""
    end_at: Instant | None = None
    """No run after this RFC 3339 time; must be later than startAt and than now (at most 2100)."""
    jitter: str | None = Field(default=None, max_length=32)
    """Random delay of up to this duration added to each run, e.g. 30s."""
    max_runs: int | None = Field(default=None, ge=1, le=1_000_000)
    """Stop after this many scheduled runs (Temporal's limited actions; sundial trigger runs do not
    count); then phase Completed. Raising it later gives the difference back."""
    paused: bool = False
    """Pause the schedule (like Deployment.spec.paused): no runs start until it is false again."""
    pause_reason: str = Field(default="", max_length=MAX_TEXT_LENGTH)
    """Note written to the Temporal schedule while paused."""
    task: TaskSpec | None = None
    """The agent task each run performs; required unless spec.workflow.args is given."""
    workflow: WorkflowSpec = Field(default_factory=WorkflowSpec)
    """The workflow each run starts."""
    max_budget_per_run_usd: float = Field(default=10.0, alias="maxBudgetPerRunUSD", ge=0, allow_inf_nan=False)
    """Most a single run may spend, in US dollars; at most the operator's SCHEDULE_MAX_BUDGET_USD."""
    timeout_seconds: int = Field(default=600, ge=1, le=MAX_TIMEOUT_SECONDS)
    """Run timeout of each workflow attempt, in seconds (at most one day)."""
    policy: PolicySpec = Field(default_factory=PolicySpec)
    """Overlap, catch-up, failure and cost policies."""
    history: HistorySpec = Field(default_factory=HistorySpec)
    """How many finished runs to keep in status.recentRuns."""

    @property
    def whens(self) -> tuple[tuple[str, str], ...]:
        """(field, text) of every cron or interval: ``spec.schedule``, or each ``spec.schedules[i]``."""
        if self.schedules is not None:
            return tuple((f"spec.schedules[{i}]", text) for i, text in enumerate(self.schedules))
        return (("spec.schedule", self.schedule),) if self.schedule is not None else ()

    @classmethod
    def from_body(cls, body: Mapping[str, Any] | None) -> Self:
        """Parse a resource's ``spec``; a malformed one raises SpecInvalid (reason InvalidSpec)."""
        return parse_model(cls, body, "spec")


def parse_model(model: type[M], body: Mapping[str, Any] | None, prefix: str) -> M:
    """Validate ``body`` into ``model``; the first problem becomes SpecInvalid naming the field."""
    try:
        return model.model_validate(dict(body or {}))
    except ValidationError as exc:
        raise parse_problems(exc, prefix)[0] from exc


def parse_problems(exc: ValidationError, prefix: str) -> list[SpecInvalid]:
    """Every problem pydantic found, each a SpecInvalid naming its field (reported all at once at admission)."""
    problems = []
    for error in exc.errors(include_url=False):
        field = ".".join([prefix, *(str(part) for part in error["loc"])])
        problems.append(SpecInvalid("InvalidSpec", field, bounded(f"{field}: {_explain(error)}")))
    return problems


def _explain(error: Mapping[str, Any]) -> str:
    kind, context, value = error["type"], error.get("ctx") or {}, error.get("input")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind == "too_long":
        count = len(value) if isinstance(value, Sized) else "too many"
        return f"has {count} entries; the limit is {context['max_length']}"
    if kind == "too_short":
        return f"has {len(value) if isinstance(value, Sized) else 0} entries; at least {context['min_length']} needed"
    if kind == "string_too_long":
        return f"{len(str(value))} characters; the limit is {context['max_length']}"
    if kind == "finite_number":
        return f"{shown(value)} is not a finite number (NaN and infinities are refused)"
    if kind == "greater_than_equal":
        return f"{shown(value)} is below the minimum of {context['ge']}"
    if kind == "less_than_equal":
        return f"{shown(value)} is above the maximum of {context['le']}"
    if kind == "value_error":
        return str(context.get("error") or error["msg"])
    if kind == "literal_error":
        return f"{shown(value)} is not one of {context['expected']}"
    return f"{error['msg']} (got {shown(value)})" if value is not None else str(error["msg"])
