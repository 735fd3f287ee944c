"""The platform's rules on a spec, as pure functions of a spec and the limits.

Parsing (:meth:`ScheduleSpec.from_body`) already enforces what the schema says — types,
enums, ranges, ``displayName`` at most 255 characters — and refuses with reason
``InvalidSpec``. This module adds the rules that need computation:

=======================  ===================================================================
reason                   rule
=======================  ===================================================================
InvalidCronExpression    5 fields, a shorthand or ``@every``, Temporal's semantics, and it can fire
InvalidTimezone          a zone name of the IANA database (``zone_names``)
IntervalTooShort         smallest gap over a full cron cycle, in the zone, DST included, less the jitter,
                         of each entry and of their union (``domain.schedule_rules``)
BudgetExceeded           ``maxBudgetPerRunUSD`` at most the cap; ``policy.maxTotalBudgetUSD`` set and capped
                         where a SchedulePolicy says so
WorkflowTypeNotAllowed   ``workflow.type`` among SUNDIAL_ALLOWED_WORKFLOW_TYPES (``domain.run_limits``)
TaskQueueNotAllowed      ``workflow.taskQueue`` among SUNDIAL_ALLOWED_TASK_QUEUES
TimeZoneNotAllowed       ``timeZone`` among a SchedulePolicy's allowedTimeZones
InvalidSpec              exactly one of ``schedule`` and ``schedules``; ``endAt`` after ``startAt`` and,
                         for a new spec, after now; durations parse and
                         stay in range; attempts at most SUNDIAL_MAX_RETRY_ATTEMPTS; ``task`` xor
                         ``workflow.args``
ScheduleLimitReached     per-namespace and per-creator quotas (:func:`quota_refusal`)
=======================  ===================================================================

Every message is escaped and shortened (``domain.messages``): it echoes what a tenant wrote. Each
limit names who set it: the operator's variable, or the SchedulePolicy in force (``domain.policy``).

What a schedule runs: ``spec.task`` (the usual case: it becomes ScheduledTaskWorkflow's
single argument) or, without a task, ``spec.workflow.args`` (an explicit list, ``[]`` for
a workflow that takes no arguments). Both at once, or neither, is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sundial.domain.messages import bounded
from sundial.domain.models import ScheduleSpec
from sundial.domain.run_limits import duration_problems, jitter_of, policy_problems, workflow_problems
from sundial.domain.schedule_rules import interval_problems, parsed_whens
from sundial.errors import SpecInvalid

LIMIT_REACHED = "ScheduleLimitReached"


@dataclass(frozen=True)
class Limits:
    """The operator's limits (SCHEDULE_MIN_INTERVAL_MINS, ..._MAX_PER_NAMESPACE, ..._MAX_PER_USER,
    ..._MAX_BUDGET_USD). A min interval of 0 turns that rule off; a quota of 0 means no quota."""

    min_interval_minutes: int = 60
    max_per_namespace: int = 50
    max_per_user: int = 50
    max_budget_usd: float = 10.0
    workflow_types: tuple[str, ...] = ("ScheduledTaskWorkflow",)  # SUNDIAL_ALLOWED_WORKFLOW_TYPES; "*": any
    task_queues: tuple[str, ...] = ("sundial-tasks",)  # SUNDIAL_ALLOWED_TASK_QUEUES; "*": any
    max_retry_attempts: int = 5  # SUNDIAL_MAX_RETRY_ATTEMPTS
    max_total_budget_usd: float | None = None  # a SchedulePolicy's cap on spec.policy.maxTotalBudgetUSD
    time_zones: tuple[str, ...] = ()  # a SchedulePolicy's allowedTimeZones; empty: any
    sources: tuple[tuple[str, str], ...] = ()  # field -> who set it (domain.policy); default: its variable

    def source(self, name: str) -> str:
        """Who set limit ``name``: 'SchedulePolicy "x"', or the operator's variable (refusals name it)."""
        return dict(self.sources).get(name) or SETTING_OF.get(name, name)


SETTING_OF = {"min_interval_minutes": "SCHEDULE_MIN_INTERVAL_MINS", "max_per_namespace": "SCHEDULE_MAX_PER_NAMESPACE",
              "max_per_user": "SCHEDULE_MAX_PER_USER", "max_budget_usd": "SCHEDULE_MAX_BUDGET_USD",
              "workflow_types": "SUNDIAL_ALLOWED_WORKFLOW_TYPES", "task_queues": "SUNDIAL_ALLOWED_TASK_QUEUES"}


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """The zone names Sundial accepts: the IANA database as the ``tzdata`` package ships it.

    Backward-compatible links (``US/Eastern``, ``Europe/Kiev``) are in it and accepted: Temporal
    accepts them and they name the same rules. Not in it, and refused: the files a system
    database also holds (``posixrules``, ``right/*``, ``posix/*``, ``localtime``), Go's ``Local``,
    and ``Factory`` (no place; Sundial refuses it although the list has it). The answer does not
    depend on the host's ``/usr/share/zoneinfo``; see docs/cron.md.
    """
    listed = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
    return frozenset(listed) - {"Factory"}


def load_zone(name: str, field: str = "spec.timeZone") -> ZoneInfo:
    """The IANA zone called ``name`` (see :func:`zone_names`), or SpecInvalid(InvalidTimezone)."""
    refusal = SpecInvalid(
        "InvalidTimezone",
        field,
        f'{field}: "{name}" is not an IANA time zone name (e.g. "Asia/Tokyo", "UTC")',
    )
    if name not in zone_names():
        raise refusal
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise refusal from exc


def spec_violations(spec: ScheduleSpec, limits: Limits, now: datetime, *, new: bool = True) -> list[SpecInvalid]:
    """Every rule ``spec`` breaks, in a stable order (the first is the one to report).

    ``new``: the spec was just written (admission, or a generation not reconciled yet); only then is
    an ``endAt`` already past refused, so a schedule whose window ends later is not turned Invalid.
    """
    whens, problems = parsed_whens(spec)
    zone = None
    try:
        zone = load_zone(spec.time_zone)
    except SpecInvalid as exc:
        problems.append(exc)
    if whens is not None and zone is not None:
        problems.extend(interval_problems(spec, whens, zone, limits.min_interval_minutes, now, jitter_of(spec),
                                          limits.source("min_interval_minutes")))
    if spec.max_budget_per_run_usd > limits.max_budget_usd:
        source = limits.source("max_budget_usd")
        whose = "the operator's" if source == SETTING_OF["max_budget_usd"] else "the"
        problems.append(SpecInvalid("BudgetExceeded", "spec.maxBudgetPerRunUSD",
                                    f"spec.maxBudgetPerRunUSD: {spec.max_budget_per_run_usd} is over {whose} cap of "
                                    f"{float(limits.max_budget_usd)} ({source})"))
    problems.extend(policy_problems(spec, (limits.max_total_budget_usd, limits.source("max_total_budget_usd")),
                                    (limits.time_zones, limits.source("time_zones"))))
    if new and spec.end_at is not None and spec.end_at <= now:
        problems.append(_invalid("spec.endAt", f"{_stamp(spec.end_at)} has already passed (now {_stamp(now)}): "
                                               "the schedule would never run"))
    if spec.start_at is not None and spec.end_at is not None and spec.end_at <= spec.start_at:
        problems.append(
            _invalid("spec.endAt", f"{_stamp(spec.end_at)} is not after spec.startAt {_stamp(spec.start_at)}")
        )
    problems.extend(duration_problems(spec))
    problems.extend(workflow_problems(spec, limits.workflow_types, limits.task_queues, limits.max_retry_attempts,
                                      (limits.source("workflow_types"), limits.source("task_queues"))))
    if spec.task is not None and spec.workflow.args is not None:
        problems.append(
            _invalid("spec.workflow.args", "only allowed when spec.task is absent (the task is the argument)")
        )
    if spec.task is None and spec.workflow.args is None:
        problems.append(
            _invalid("spec.task", "required unless spec.workflow.args is given (args: [] for no arguments)")
        )
    return [_printable(problem) for problem in problems]


def _printable(problem: SpecInvalid) -> SpecInvalid:
    """The refusal with its message escaped and shortened: it echoes what the user wrote."""
    message = bounded(problem.message)
    return problem if message == problem.message else SpecInvalid(problem.reason, problem.field, message)


def validate_spec(spec: ScheduleSpec, limits: Limits, now: datetime, *, new: bool = True) -> None:
    """Raise SpecInvalid for the first rule ``spec`` breaks; return quietly if it breaks none."""
    problems = spec_violations(spec, limits, now, new=new)
    if problems:
        raise problems[0]


def validated_spec(body: Mapping[str, Any] | None, limits: Limits, now: datetime, *,
                   new: bool = True) -> ScheduleSpec:
    """Parse a resource's ``spec`` and check every rule; the first problem raises SpecInvalid."""
    spec = ScheduleSpec.from_body(body)
    validate_spec(spec, limits, now, new=new)
    return spec


def _invalid(field: str, detail: str) -> SpecInvalid:
    return SpecInvalid("InvalidSpec", field, f"{field}: {detail}")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- quotas ----------------------------------------------------------------------------------


def _instant(value: datetime | str | None) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not value:
        return datetime.max.replace(tzinfo=UTC)  # not created yet: the newest of all
    return datetime.fromisoformat(value)


def quota_refusal(
    name: str,
    created: datetime | str | None,
    siblings: Iterable[tuple[str, datetime | str | None]],
    limit: int,
    scope: str,
    setting: str,
    field: str = "metadata.namespace",
) -> SpecInvalid | None:
    """Refuse ``name`` when it is not among the first ``limit`` schedules of its group.

    The group (a namespace's schedules, or one creator's) is ordered by (creationTimestamp,
    name); ``siblings`` lists its members as (name, creationTimestamp) and may include
    ``name`` itself. The oldest ``limit`` keep their place whatever is added later, and
    deleting one of them frees a place for the oldest refused one. ``scope`` names the
    group in the message ("namespace team-a"); ``setting`` is the limit's variable.
    """
    if limit <= 0:
        return None
    members = {sibling: _instant(stamp) for sibling, stamp in siblings}
    members[name] = _instant(created)
    order = sorted(members, key=lambda member: (members[member], member))
    if order.index(name) < limit:
        return None
    message = f"{scope} has {len(order)} schedules; the limit is {limit} ({setting})"
    return SpecInvalid(LIMIT_REACHED, field, bounded(message))


def namespace_quota_refusal(
    namespace: str,
    name: str,
    created: datetime | str | None,
    siblings: Iterable[tuple[str, datetime | str | None]],
    limits: Limits,
) -> SpecInvalid | None:
    """The per-namespace quota (SCHEDULE_MAX_PER_NAMESPACE) for ``name`` in ``namespace``."""
    return quota_refusal(
        name,
        created,
        siblings,
        limits.max_per_namespace,
        f"namespace {namespace}",
        limits.source("max_per_namespace"),
    )


def user_quota_refusal(
    user: str,
    name: str,
    created: datetime | str | None,
    siblings: Iterable[tuple[str, datetime | str | None]],
    limits: Limits,
) -> SpecInvalid | None:
    """The per-creator quota (SCHEDULE_MAX_PER_USER); ``siblings`` are the user's schedules,
    named ``namespace/name`` (so equal names in two namespaces stay apart)."""
    return quota_refusal(
        name,
        created,
        siblings,
        limits.max_per_user,
        f"user {user}",
        limits.source("max_per_user"),
        field="metadata.annotations",
    )
