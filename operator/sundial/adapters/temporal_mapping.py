"""Pure mapping between Sundial's schedules and the Temporal SDK's types, and its errors into ours.

No I/O: ``build_schedule`` makes a fresh SDK ``Schedule`` from a ``DesiredSchedule`` (safe
to call more than once), the fingerprints hash what the server shows (see
``sundial.domain.desired``), and ``translate`` maps an SDK exception to Sundial's tree
(``sundial.errors``). The gateway (``temporal.py``) does the calls.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.client import (
    Schedule,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionResult,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleDescription,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
)
from temporalio.common import RetryPolicy
from temporalio.converter import PayloadConverter
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from sundial.domain.cron.ranges import temporal_calendar
from sundial.domain.desired import DesiredSchedule, RecentAction, stable_digest
from sundial.errors import (
    ScheduleAlreadyExists,
    ScheduleNotFound,
    TemporalError,
    TemporalNamespaceNotFound,
    TemporalOutcomeUnknown,
    TemporalRejected,
    TemporalUnauthorized,
    TemporalUnavailable,
)

OVERLAP: dict[str, ScheduleOverlapPolicy] = {
    "Skip": ScheduleOverlapPolicy.SKIP, "BufferOne": ScheduleOverlapPolicy.BUFFER_ONE,
    "BufferAll": ScheduleOverlapPolicy.BUFFER_ALL, "CancelOther": ScheduleOverlapPolicy.CANCEL_OTHER,
    "TerminateOther": ScheduleOverlapPolicy.TERMINATE_OTHER, "AllowAll": ScheduleOverlapPolicy.ALLOW_ALL,
}
_MAYBE_DONE = {RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED}  # sent; perhaps done
_UNAVAILABLE = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED,
                RPCStatusCode.RESOURCE_EXHAUSTED, RPCStatusCode.ABORTED, RPCStatusCode.CANCELLED}
_UNAUTHORIZED = {RPCStatusCode.PERMISSION_DENIED, RPCStatusCode.UNAUTHENTICATED}
_REJECTED = {RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.FAILED_PRECONDITION, RPCStatusCode.OUT_OF_RANGE,
             RPCStatusCode.UNIMPLEMENTED}


def build_schedule(desired: DesiredSchedule, remaining_runs: int | None = None) -> Schedule:
    """A Temporal schedule built from nothing but ``desired`` (pure, safe to call twice);
    ``remaining_runs`` are the limited actions left under ``desired.max_runs``."""
    limited = desired.max_runs is not None
    return Schedule(
        action=ScheduleActionStartWorkflow(
            desired.workflow_type, args=list(desired.args), id=desired.workflow_id,
            task_queue=desired.task_queue, run_timeout=desired.run_timeout,
            execution_timeout=desired.execution_timeout,
            retry_policy=RetryPolicy(maximum_attempts=desired.retry_maximum_attempts)),
        spec=ScheduleSpec(cron_expressions=list(desired.crons), time_zone_name=desired.time_zone,
                          intervals=[ScheduleIntervalSpec(every=i.every, offset=i.offset or None)
                                     for i in desired.intervals],
                          start_at=desired.start_at, end_at=desired.end_at, jitter=desired.jitter),
        policy=SchedulePolicy(overlap=OVERLAP[desired.overlap], catchup_window=desired.catchup_window),
        state=ScheduleState(paused=desired.paused, note=desired.note or None, limited_actions=limited,
                            remaining_actions=(remaining_runs if remaining_runs is not None else
                                               desired.max_runs or 0) if limited else 0),
    )


def _calendar(calendar: ScheduleCalendarSpec) -> dict[str, Any]:
    fields = ("second", "minute", "hour", "day_of_month", "month", "year", "day_of_week")
    ranges = {name: [[r.start, r.end, r.step] for r in getattr(calendar, name)] for name in fields}
    return {**ranges, "comment": calendar.comment or ""}


def listed_fingerprint(spec: ScheduleSpec, workflow_type: str) -> str:
    """Hash of what both a list entry and a describe show: the compiled spec and workflow type."""
    return stable_digest({
        "workflow_type": workflow_type, "calendars": [_calendar(c) for c in spec.calendars],
        "intervals": [[i.every, i.offset or timedelta(0)] for i in spec.intervals],
        "skip": [_calendar(c) for c in spec.skip],
        "cron": list(spec.cron_expressions),  # the server compiles these away; kept in case one is not
        "start_at": spec.start_at, "end_at": spec.end_at, "jitter": spec.jitter,
        "zone": spec.time_zone_name or ""})


def _retry(policy: RetryPolicy | None) -> list[Any] | None:
    if policy is None:
        return None
    return [policy.initial_interval, policy.backoff_coefficient, policy.maximum_interval,
            policy.maximum_attempts, sorted(policy.non_retryable_error_types or ())]


def fingerprint_from_description(description: ScheduleDescription) -> str:
    """``"<listed>.<rest>"`` of what the server shows (never cron text, memo or pause state)."""
    return _fingerprint(description.schedule)


def fingerprint_from_desired(desired: DesiredSchedule, converter: PayloadConverter) -> str:
    """The fingerprint a describe will show right after ``desired`` is written, known without one.

    The server normalises what it stores: each cron becomes a structured calendar
    (``domain.cron.ranges``; intervals stay as sent, an offset of 0 as none), the arguments are
    kept as the payloads we encoded, a zero jitter reads back as none, and the retry policy gains
    Temporal's default maximum interval (100x the initial one).
    ``tests/integration/test_fingerprint_corpus.py`` holds this equal to the describe's over
    every spec feature.
    """
    sent = build_schedule(desired)
    action = sent.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    action.args = converter.to_payloads(list(desired.args))
    retry = action.retry_policy
    if retry is not None and retry.maximum_interval is None:
        retry.maximum_interval = retry.initial_interval * 100
    spec = sent.spec
    sent.spec = ScheduleSpec(
        calendars=[_compiled(cron) for cron in desired.crons], intervals=spec.intervals,
        time_zone_name=spec.time_zone_name, start_at=spec.start_at, end_at=spec.end_at, jitter=spec.jitter or None)
    return _fingerprint(sent)


def _compiled(cron: str) -> ScheduleCalendarSpec:
    ranges = {field: tuple(ScheduleRange(start, end, step) for start, end, step in values)
              for field, values in temporal_calendar(cron).items()}
    return ScheduleCalendarSpec(second=ranges["second"], minute=ranges["minute"], hour=ranges["hour"],
                                day_of_month=ranges["day_of_month"], month=ranges["month"], year=ranges["year"],
                                day_of_week=ranges["day_of_week"])


def _fingerprint(schedule: Schedule) -> str:
    action = schedule.action
    if not isinstance(action, ScheduleActionStartWorkflow):
        return f"{listed_fingerprint(schedule.spec, '')}.{stable_digest(repr(action))}"
    payloads = [a.SerializeToString(deterministic=True).hex() if isinstance(a, Payload) else repr(a)
                for a in action.args]
    rest = stable_digest({
        "workflow_id": action.id, "task_queue": action.task_queue, "args": payloads,
        "timeouts": [action.execution_timeout, action.run_timeout, action.task_timeout],
        "retry": _retry(action.retry_policy), "overlap": schedule.policy.overlap.name,
        "catchup_window": schedule.policy.catchup_window,
        "pause_on_failure": schedule.policy.pause_on_failure})
    return f"{listed_fingerprint(schedule.spec, action.workflow)}.{rest}"


def recent_actions(results: Any) -> tuple[RecentAction, ...]:
    actions: list[RecentAction] = []
    for result in results:
        assert isinstance(result, ScheduleActionResult)
        started = result.action
        workflow_id, run_id = ((started.workflow_id, started.first_execution_run_id)
                               if isinstance(started, ScheduleActionExecutionStartWorkflow) else ("", ""))
        actions.append(RecentAction(result.scheduled_at, result.started_at, workflow_id, run_id))
    return tuple(actions)


def memo_strings(raw: Any) -> dict[str, str]:
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in dict(raw).items()}


def is_connect_failure(exc: BaseException) -> bool:
    """The core bridge raises a plain RuntimeError ("Failed client connect: ...") when nobody answers."""
    return isinstance(exc, RuntimeError) and "connect" in str(exc).lower()


def tls_config(cert: Path | None, key: Path | None, ca: Path | None, api_key: str | None) -> bool | TLSConfig:
    """TLS with the given files; plain TLS for an API key alone (Temporal Cloud); else none."""
    if cert or key or ca:
        return TLSConfig(server_root_ca_cert=ca.read_bytes() if ca else None,
                         client_cert=cert.read_bytes() if cert else None,
                         client_private_key=key.read_bytes() if key else None)
    return bool(api_key)


def is_namespace_not_found(exc: RPCError) -> bool:
    """NOT_FOUND about the Temporal namespace, not about a schedule.

    The server says ``Namespace nope is not found.`` (and sends a NamespaceNotFoundFailure
    detail); a schedule's NOT_FOUND names the schedule ID, which may contain "namespace" too.
    """
    details = getattr(exc, "grpc_status", None)
    for detail in getattr(details, "details", None) or ():
        if "NamespaceNotFoundFailure" in getattr(detail, "type_url", ""):
            return True
    return exc.message.lower().startswith("namespace")


def translate(exc: BaseException, what: str) -> TemporalError:
    """Sundial's exception for a Temporal one (the caller raises it ``from exc``)."""
    if isinstance(exc, ScheduleAlreadyRunningError):
        return ScheduleAlreadyExists(f"{what}: a schedule with this ID exists already")
    if is_connect_failure(exc):
        return TemporalUnavailable(f"{what}: {exc}")
    if not isinstance(exc, RPCError):
        return TemporalError(f"{what}: {exc}")
    message = f"{what}: {exc.message}"
    if exc.status == RPCStatusCode.NOT_FOUND:
        if is_namespace_not_found(exc):
            return TemporalNamespaceNotFound(f"{message} (check SUNDIAL_TEMPORAL_NAMESPACE, or create it)")
        return ScheduleNotFound(message)
    if exc.status == RPCStatusCode.ALREADY_EXISTS:
        return ScheduleAlreadyExists(message)
    if exc.status in _UNAUTHORIZED:
        return TemporalUnauthorized(f"{message} (check the operator's Temporal credentials and grants)")
    if exc.status in _REJECTED:
        return TemporalRejected(message)
    if exc.status in _MAYBE_DONE:
        return TemporalOutcomeUnknown(message)
    if exc.status in _UNAVAILABLE:
        return TemporalUnavailable(message)
    return TemporalError(message)
