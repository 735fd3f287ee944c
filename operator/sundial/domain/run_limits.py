"""The limits on what a run may be and do: durations, workflow types, task queues, attempts.

Part of the rules (``domain.rules.spec_violations`` calls each one and orders the problems);
kept apart so that each check is short to read. Every value here comes from a tenant's spec
and ends up in a protobuf message or a Temporal action, where it must not be changed silently.
"""

from __future__ import annotations

from datetime import timedelta

from sundial.domain.durations import InvalidDuration, format_duration, parse_duration
from sundial.domain.models import MAX_CATCHUP_WINDOW, MAX_JITTER, MIN_CATCHUP_WINDOW, ScheduleSpec
from sundial.errors import SpecInvalid


def jitter_of(spec: ScheduleSpec) -> timedelta:
    """The spec's jitter, or 0 when it has none or an invalid one (refused on its own, spec.jitter)."""
    try:
        return parse_duration(spec.jitter, MAX_JITTER) if spec.jitter else timedelta(0)
    except InvalidDuration:
        return timedelta(0)


def duration_problems(spec: ScheduleSpec) -> list[SpecInvalid]:
    """Durations parse and stay within their field's range (protobuf and Temporal change the rest)."""
    problems = []
    for field, value, least, most in (
        ("spec.jitter", spec.jitter, timedelta(0), MAX_JITTER),
        ("spec.policy.catchupWindow", spec.policy.catchup_window, MIN_CATCHUP_WINDOW, MAX_CATCHUP_WINDOW),
    ):
        try:
            if value is not None and parse_duration(value, most) < least:
                problems.append(_invalid(field, f'"{value}" is shorter than the minimum of {format_duration(least)} '
                                                "(Temporal's minimum; 0 would mean one year)"))
        except InvalidDuration as exc:
            problems.append(_invalid(field, str(exc)))
    return problems


def workflow_problems(spec: ScheduleSpec, workflow_types: tuple[str, ...], task_queues: tuple[str, ...],
                      max_attempts: int, sources: tuple[str, str] = ("SUNDIAL_ALLOWED_WORKFLOW_TYPES",
                                                                    "SUNDIAL_ALLOWED_TASK_QUEUES"),
                      ) -> list[SpecInvalid]:
    """What a tenant may start: allowed workflow types and task queues (an omitted one is the operator's
    default, always allowed; ``*`` allows any), and at most ``max_attempts`` attempts per run. ``sources``
    name who set each list (the variable, or a SchedulePolicy)."""
    problems = []
    for field, value, allowed, setting in (
        ("spec.workflow.type", spec.workflow.type, workflow_types, sources[0]),
        ("spec.workflow.taskQueue", spec.workflow.task_queue, task_queues, sources[1]),
    ):
        if value is not None and "*" not in allowed and value not in allowed:
            reason = "WorkflowTypeNotAllowed" if field.endswith("type") else "TaskQueueNotAllowed"
            shown = ", ".join(allowed) or "none"
            message = f'{field}: "{value}" is not allowed; allowed: {shown} ({setting})'
            problems.append(SpecInvalid(reason, field, message))
    attempts = spec.workflow.retry.maximum_attempts
    if attempts > max_attempts:
        problems.append(_invalid("spec.workflow.retry.maximumAttempts", f"{attempts} is above the operator's "
                                 f"maximum of {max_attempts} (SUNDIAL_MAX_RETRY_ATTEMPTS)"))
    return problems


def policy_problems(spec: ScheduleSpec, total_budget: tuple[float | None, str],
                    time_zones: tuple[tuple[str, ...], str]) -> list[SpecInvalid]:
    """The limits only a SchedulePolicy sets: a cap on (and so a required) ``policy.maxTotalBudgetUSD``, and
    the allowed time zones. Each pair is (limit, who set it); None or empty: no limit."""
    problems = []
    cap, source = total_budget
    field = "spec.policy.maxTotalBudgetUSD"
    total = spec.policy.max_total_budget_usd
    if cap is not None and total is None:
        problems.append(SpecInvalid("BudgetExceeded", field, f"{field}: required, at most {float(cap)} ({source})"))
    elif cap is not None and total is not None and total > cap:
        problems.append(SpecInvalid("BudgetExceeded", field, f"{field}: {total} is over the cap of {float(cap)} "
                                                             f"({source})"))
    zones, source = time_zones
    if zones and spec.time_zone not in zones:
        problems.append(SpecInvalid("TimeZoneNotAllowed", "spec.timeZone",
                                    f'spec.timeZone: "{spec.time_zone}" is not allowed; allowed: '
                                    f'{", ".join(zones)} ({source})'))
    return problems


def _invalid(field: str, detail: str) -> SpecInvalid:
    return SpecInvalid("InvalidSpec", field, f"{field}: {detail}")
