"""From a validated ``Schedule`` spec to the schedule Sundial wants in Temporal.

Pure. Operator-wide defaults (workflow type, task queue) come in as a parameter, and so
does the effective pause (the spec's own, or an automatic one from run outcomes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sundial.domain.conditions import USER_REQUESTED
from sundial.domain.contract import run_envelope
from sundial.domain.cron import Interval
from sundial.domain.desired import DesiredSchedule, ScheduleIdentity, task_input
from sundial.domain.durations import parse_duration
from sundial.domain.models import MAX_CATCHUP_WINDOW, MAX_JITTER, ScheduleSpec
from sundial.domain.schedule_rules import spec_whens
from sundial.domain.status import PauseState


@dataclass(frozen=True)
class WorkflowDefaults:
    """What a spec without ``workflow.type`` / ``workflow.taskQueue`` starts."""

    workflow_type: str = "ScheduledTaskWorkflow"
    task_queue: str = "sundial-tasks"


#: Longest wait between two attempts under Temporal's default workflow retry policy (100 x 1 s).
RETRY_BACKOFF_CEILING = timedelta(seconds=100)


def execution_timeout(timeout_seconds: int, attempts: int) -> timedelta:
    """Every attempt of one run with the waits between them: no run outlives this, whatever fails."""
    return attempts * timedelta(seconds=timeout_seconds) + (attempts - 1) * RETRY_BACKOFF_CEILING


def spec_pause(spec: ScheduleSpec) -> PauseState | None:
    """The declarative pause of ``spec.paused``, with its note."""
    if not spec.paused:
        return None
    return PauseState(USER_REQUESTED, spec.pause_reason or "paused by spec.paused")


def desired_from_spec(
    spec: ScheduleSpec, identity: ScheduleIdentity, defaults: WorkflowDefaults, creator: str,
    pause: PauseState | None,
) -> DesiredSchedule:
    """The whole Temporal schedule for this spec (which passed the rules); ``pause`` is the effective pause
    decided by the caller. Crons and intervals go to Temporal separately, in the spec's order."""
    workflow = spec.workflow
    if spec.task is not None:
        args: tuple[object, ...] = (
            task_input(
                schedule_id=identity.schedule_id, query=spec.task.query, context=dict(spec.task.context),
                max_budget_per_run_usd=spec.max_budget_per_run_usd, user_id=creator,
                tenant_id=identity.namespace,
            ),
        )
    else:  # Sundial's envelope first, then the user's arguments: identity and budget cannot be forged
        envelope = run_envelope(identity.schedule_id, identity.namespace, creator, spec.max_budget_per_run_usd)
        args = (envelope, *(workflow.args or ()))
    whens = spec_whens(spec)
    return DesiredSchedule(
        crons=tuple(text for (_, text), when in zip(spec.whens, whens, strict=True) if not isinstance(when, Interval)),
        intervals=tuple(when for when in whens if isinstance(when, Interval)),
        time_zone=spec.time_zone,
        start_at=spec.start_at,
        end_at=spec.end_at,
        jitter=parse_duration(spec.jitter, MAX_JITTER) if spec.jitter else None,
        workflow_type=workflow.type or defaults.workflow_type,
        task_queue=workflow.task_queue or defaults.task_queue,
        workflow_id=identity.schedule_id,
        args=args,
        run_timeout=timedelta(seconds=spec.timeout_seconds),
        retry_maximum_attempts=workflow.retry.maximum_attempts,
        execution_timeout=execution_timeout(spec.timeout_seconds, workflow.retry.maximum_attempts),
        overlap=spec.policy.overlap,
        catchup_window=parse_duration(spec.policy.catchup_window, MAX_CATCHUP_WINDOW),
        paused=pause is not None,
        note=pause.message if pause else "",
        max_runs=spec.max_runs,
    )
