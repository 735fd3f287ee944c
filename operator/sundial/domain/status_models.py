"""The Schedule's status as typed, frozen models: the CRD's status schema comes from here.

Written only by the operator. The same base model as the spec (camelCase on the wire,
every field's docstring is its ``kubectl explain`` text).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import AwareDatetime, Field

from sundial.domain.models import Model, parse_model

Phase = Literal["Pending", "Active", "Paused", "Completed", "Invalid", "Error", "Deleting"]
ConditionStatus = Literal["True", "False", "Unknown"]




class Condition(Model):
    """One kstatus-style condition: Ready, Paused, Reconciling, Stalled, Firing or RunAccounting."""

    type: str = Field(min_length=1, max_length=64)
    """Condition type: Ready, Paused, Reconciling, Stalled, Firing or RunAccounting (meanings in docs/reference.md)."""
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


class TemporalRef(Model):
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
    max_runs: int | None = None
    """The spec.maxRuns the Temporal schedule's remaining runs were last set against."""


class RunCounters(Model):
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


class CostStatus(Model):
    """What the runs cost, as the workflows reported it."""

    total_usd: float = Field(default=0.0, alias="totalUSD", ge=0)
    """Cumulative cost of all counted runs, in US dollars."""
    last_run_usd: float | None = Field(default=None, alias="lastRunUSD", ge=0)
    """Cost of the most recently closed run, in US dollars."""


class RunRecord(Model):
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


class AutoPause(Model):
    """An automatic pause the operator applied, until a resume or a spec fix."""

    reason: str
    """ConsecutiveFailures or BudgetExhausted."""
    message: str = ""
    """Human-readable detail."""
    since: AwareDatetime | None = None
    """When the operator paused the schedule."""
    generation: int | None = None
    """metadata.generation of the spec in force when it paused; a later one is a spec change."""


class RunWatermark(Model):
    """The run accounting's bookmark, so no run is counted twice across restarts."""

    closed_through: AwareDatetime | None = None
    """Every run closed before this time has been counted."""
    counted_ids: tuple[str, ...] = ()
    """Run IDs closed at or after closedThrough that have been counted already."""
    auto_pause: AutoPause | None = None
    """The automatic pause in force, if any."""


class RequestAcks(Model):
    """The annotation requests (``sundial resume``, ``sundial trigger``) the operator has acted on."""

    resume: str | None = None
    """The last sundial.dev/resume-requested value acted on."""
    trigger: str | None = None
    """The last sundial.dev/trigger-requested value acted on."""
    trigger_result: str | None = None
    """What became of that trigger: started, or why not."""
    resume_note: str | None = None
    """When and why the last sundial resume lifted a pause (its --reason), shown in the Paused condition."""
    probe: str | None = None
    """The last sundial.dev/probe-requested value (sundial resume --probe) acted on to the end."""
    probe_run: str | None = None
    """Workflow ID of the probe run started for the probe request in progress or last acted on."""
    probe_result: str | None = None
    """What became of that probe: succeeded, or failed: the run's error."""
    backfill: str | None = None
    """The last sundial.dev/backfill-requested value acted on."""
    backfill_result: str | None = None
    """What became of that backfill: started N runs, or why not."""

    last_trigger_at: str | None = None
    """When a trigger last started a run (triggers are limited to one per minimum interval)."""


class ScheduleStatus(Model):
    """What the operator observed; written only by the operator."""

    observed_generation: int | None = None
    """metadata.generation of the spec last acted on."""
    phase: Phase | None = None
    """Pending, Active, Paused, Completed, Invalid, Error or Deleting."""
    conditions: tuple[Condition, ...] = ()
    """kstatus conditions: Ready, Paused, Reconciling, Stalled, Firing."""
    temporal: TemporalRef | None = None
    """The Temporal schedule this resource manages."""
    next_run_time: AwareDatetime | None = None
    """Next run: after a write, the time Temporal will show (its own calendar walk, ported; with jitter unset
    until the next sweep), then as Temporal's schedule list shows it."""
    next_run_time_local: str | None = None
    """The same instant in spec.timeZone, e.g. "2026-12-16 09:00 JST"."""
    remaining_runs: int | None = Field(default=None, ge=0)
    """Scheduled runs left under spec.maxRuns, as Temporal counts them; absent without spec.maxRuns."""
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
