"""The Schedule status as TypedDicts, as on the wire. Generated from sundial.domain.status_models
by `python -m sundial.domain.status_codegen` (make crds); do not edit: edit the models.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict


class ConditionDict(TypedDict, total=False):
    """One kstatus-style condition: Ready, Paused, Reconciling, Stalled, Firing or RunAccounting."""

    # Condition type: Ready, Paused, Reconciling, Stalled, Firing or RunAccounting (meanings in docs/reference.md).
    type: str
    # True, False or Unknown.
    status: Literal["True", "False", "Unknown"]
    # One CamelCase word saying why, e.g. Synced, UserRequested, IntervalTooShort.
    reason: str
    # Human-readable detail.
    message: str
    # metadata.generation of the spec this condition describes.
    observedGeneration: int | None
    # When status last changed.
    lastTransitionTime: str | None


class TemporalRefDict(TypedDict, total=False):
    """Where the Temporal schedule lives and what it starts."""

    # Temporal namespace.
    namespace: str | None
    # Temporal schedule ID, deterministic per (cluster, namespace, name).
    scheduleId: str | None
    # Workflow type the schedule starts.
    workflowType: str | None
    # Task queue the workflow runs on.
    taskQueue: str | None
    # Hash of the schedule definition the operator last wrote, to tell drift from its own writes.
    specHash: str | None
    # Hash of the schedule as Temporal showed it right after the operator's last write.
    fingerprint: str | None
    # The spec.maxRuns the Temporal schedule's remaining runs were last set against.
    maxRuns: int | None


class RunCountersDict(TypedDict, total=False):
    """Run outcomes counted since the schedule was created; they only grow."""

    # Runs finished: succeeded + failed (runs still going are in running).
    total: int
    # Runs that completed successfully.
    succeeded: int
    # Runs that failed, timed out, were cancelled or terminated.
    failed: int
    # Runs still open.
    running: int
    # Failed runs since the last success.
    consecutiveFailures: int


class CostStatusDict(TypedDict, total=False):
    """What the runs cost, as the workflows reported it."""

    # Cumulative cost of all counted runs, in US dollars.
    totalUSD: float
    # Cost of the most recently closed run, in US dollars.
    lastRunUSD: float | None


class RunRecordDict(TypedDict, total=False):
    """One finished (or running) workflow run."""

    # Temporal workflow ID (the schedule's action ID plus the scheduled time).
    workflowId: str
    # Temporal run ID.
    runId: str | None
    # Temporal execution status: RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, TIMED_OUT.
    status: str
    # When the schedule meant the run to start.
    scheduledTime: str | None
    # When the workflow actually started.
    startedAt: str | None
    # When the workflow closed.
    closedAt: str | None
    # Run time from start to close, in milliseconds.
    durationMs: int | None
    # What the run cost, in US dollars, from its result.
    costUSD: float | None
    # Tokens the run used.
    totalTokens: int | None
    # Model the run used.
    model: str | None
    # Model provider the run used.
    provider: str | None
    # Error message of a failed run.
    error: str | None


class AutoPauseDict(TypedDict, total=False):
    """An automatic pause the operator applied, until a resume or a spec fix."""

    # ConsecutiveFailures or BudgetExhausted.
    reason: str
    # Human-readable detail.
    message: str
    # When the operator paused the schedule.
    since: str | None
    # metadata.generation of the spec in force when it paused; a later one is a spec change.
    generation: int | None


class RunWatermarkDict(TypedDict, total=False):
    """The run accounting's bookmark, so no run is counted twice across restarts."""

    # Every run closed before this time has been counted.
    closedThrough: str | None
    # Run IDs closed at or after closedThrough that have been counted already.
    countedIds: list[str]
    # The automatic pause in force, if any.
    autoPause: AutoPauseDict | None


class RequestAcksDict(TypedDict, total=False):
    """The annotation requests (``sundial resume``, ``sundial trigger``) the operator has acted on."""

    # The last sundial.dev/resume-requested value acted on.
    resume: str | None
    # The last sundial.dev/trigger-requested value acted on.
    trigger: str | None
    # What became of that trigger: started, or why not.
    triggerResult: str | None
    # When and why the last sundial resume lifted a pause (its --reason), shown in the Paused condition.
    resumeNote: str | None
    # The last sundial.dev/probe-requested value (sundial resume --probe) acted on to the end.
    probe: str | None
    # Workflow ID of the probe run started for the probe request in progress or last acted on.
    probeRun: str | None
    # What became of that probe: succeeded, or failed: the run's error.
    probeResult: str | None
    # The last sundial.dev/backfill-requested value acted on.
    backfill: str | None
    # What became of that backfill: started N runs, or why not.
    backfillResult: str | None
    # When a trigger last started a run (triggers are limited to one per minimum interval).
    lastTriggerAt: str | None


class ScheduleStatusDict(TypedDict, total=False):
    """What the operator observed; written only by the operator."""

    # metadata.generation of the spec last acted on.
    observedGeneration: int | None
    # Pending, Active, Paused, Completed, Invalid, Error or Deleting.
    phase: Literal["Pending", "Active", "Paused", "Completed", "Invalid", "Error", "Deleting"] | None
    # kstatus conditions: Ready, Paused, Reconciling, Stalled, Firing.
    conditions: list[ConditionDict]
    # The Temporal schedule this resource manages.
    temporal: TemporalRefDict | None
    # Next run: after a write, the time Temporal will show (its own calendar walk, ported; with jitter unset until the
    # next sweep), then as Temporal's schedule list shows it.
    nextRunTime: str | None
    # The same instant in spec.timeZone, e.g. "2026-12-16 09:00 JST".
    nextRunTimeLocal: str | None
    # Scheduled runs left under spec.maxRuns, as Temporal counts them; absent without spec.maxRuns.
    remainingRuns: int | None
    # When the last run started.
    lastRunTime: str | None
    # When the last successful run closed.
    lastSuccessfulTime: str | None
    # Run counters.
    runs: RunCountersDict
    # Cost counters.
    cost: CostStatusDict
    # Latest runs, newest first, bounded by spec.history.
    recentRuns: list[RunRecordDict]
    # When Temporal was last brought in line with the spec.
    lastSyncTime: str | None
    # The operator's run-accounting bookmark.
    accounting: RunWatermarkDict | None
    # Annotation requests already acted on, so each is acted on once.
    requests: RequestAcksDict | None
    # kopf's own handler progress (internal).
    kopf: dict[str, Any] | None
