"""Importing and adopting a Temporal schedule that Sundial does not manage (``docs/adoption.md``).

Pure. ``sundial import`` reads the schedule as a ``ForeignSchedule`` (plain values, filled by
the Temporal adapter) and turns it into the equivalent ``Schedule`` spec, or refuses with
every reason it cannot be expressed. Adoption (``sundial.dev/adopt: <id>``) takes the
schedule over under its own ID; ``adoption_refusal`` says whether this resource may.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sundial.domain.desired import (
    MANAGED_BY,
    ScheduleIdentity,
    identity_from_memo,
    parse_schedule_id,
)
from sundial.domain.models import MAX_SCHEDULES
from sundial.domain.status import Status, status_of

Range = tuple[int, int, int]  # Temporal's (start, end, step); end < start means just start
#: Cron fields in order, with the full range each one covers ("*").
CRON_FIELDS: tuple[tuple[str, int, int], ...] = (
    ("minute", 0, 59), ("hour", 0, 23), ("day_of_month", 1, 31), ("month", 1, 12), ("day_of_week", 0, 6))
#: Memo keys that say another tool or team owns the schedule: such a schedule is never adopted.
OWNER_KEYS = ("managed-by", "managedby", "managed_by", "owner", "owned-by")
#: Optional memo key on a foreign schedule: the Kubernetes namespaces allowed to adopt it.
ADOPTABLE_BY = "sundial.dev/adoptable-by"
#: The annotation naming the Temporal schedule to take over (the same value as adapters.kube.ADOPT_ANNOTATION).
ADOPT_ANNOTATION = "sundial.dev/adopt"


class NotExpressible(ValueError):
    """The schedule uses what a ``Schedule`` cannot say; ``reasons`` lists each thing."""

    def __init__(self, schedule_id: str, reasons: list[str]) -> None:
        super().__init__(f"Temporal schedule {schedule_id} cannot be expressed as a Sundial Schedule: "
                         + "; ".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class ForeignSchedule:
    """A Temporal schedule as describe shows it, in plain values."""

    schedule_id: str
    memo: dict[str, str]
    calendars: tuple[dict[str, tuple[Range, ...]], ...] = ()
    intervals: tuple[tuple[timedelta, timedelta], ...] = ()  # (every, offset)
    skips: int = 0
    cron_expressions: tuple[str, ...] = ()
    action_kind: str = "start workflow"  # anything else cannot be imported
    workflow_type: str = ""
    task_queue: str = ""
    args: tuple[Any, ...] | None = ()  # None: arguments in an encoding Sundial cannot read
    run_timeout: timedelta | None = None
    retry_maximum_attempts: int | None = None
    retry_other: bool = False  # a retry policy with more than maximum_attempts set
    extras: tuple[str, ...] = ()  # other action settings set (memo, search attributes, ...)
    overlap: str = "Skip"
    catchup_window: timedelta | None = None
    pause_on_failure: bool = False
    time_zone: str = ""
    start_at: datetime | None = None
    end_at: datetime | None = None
    jitter: timedelta | None = None
    paused: bool = False
    note: str = ""
    next_action_times: tuple[datetime, ...] = field(default=(), compare=False)


def render_field(ranges: tuple[Range, ...], low: int, high: int, empty: str) -> str:
    """One cron field from Temporal's ranges: ``*``, ``*/5``, ``1-5``, ``9``, lists of those."""
    if not ranges:
        return empty
    parts = []
    for start, end, step in ranges:
        end, step = max(start, end), step or 1
        if (start, end) == (low, high):
            parts.append("*" if step == 1 else f"*/{step}")
        elif start == end:
            parts.append(str(start))
        else:
            parts.append(f"{start}-{end}" + ("" if step == 1 else f"/{step}"))
    return ",".join(parts)


def calendar_cron(calendar: Mapping[str, tuple[Range, ...]]) -> tuple[str | None, list[str]]:
    """The 5-field cron of one calendar, or None and why not (seconds, years, comments)."""
    problems = []
    if calendar.get("second", ()) not in ((), ((0, 0, 1),), ((0, 0, 0),)):
        problems.append("runs at a second other than :00 (cron has minutes only)")
    if calendar.get("year", ()):
        problems.append("is limited to certain years")
    if problems:
        return None, problems
    defaults = {"minute": "0", "hour": "0"}
    fields = [render_field(tuple(calendar.get(name, ())), low, high, defaults.get(name, "*"))
              for name, low, high in CRON_FIELDS]
    return " ".join(fields), []


def _duration(delta: timedelta) -> str:
    """A Go-style duration Sundial reads back (whole seconds)."""
    seconds = int(delta.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "") + (f"{secs}s" if secs else "")
    return text or "0"


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _whens(foreign: ForeignSchedule) -> tuple[list[str], list[str]]:
    """The crons and ``@every`` intervals of the schedule (``schedule`` or ``schedules``), and what cannot be said."""
    whens, reasons = list(foreign.cron_expressions), []
    for number, calendar in enumerate(foreign.calendars, 1):
        cron, problems = calendar_cron(calendar)
        which = "its calendar" if len(foreign.calendars) == 1 else f"its calendar {number}"
        reasons += [f"{which} {p}" for p in problems]
        whens += [cron] if cron else []
    for every, phase in foreign.intervals:
        whens.append(f"@every {_duration(every)}" + (f"/{_duration(phase)}" if phase else ""))
    count = len(foreign.cron_expressions) + len(foreign.calendars) + len(foreign.intervals)
    if count > MAX_SCHEDULES:
        reasons.append(f"it has {count} calendars and intervals (spec.schedules takes at most {MAX_SCHEDULES})")
    if foreign.skips:
        reasons.append(f"it has {foreign.skips} exclusion calendar(s) (skip)")
    if not count:
        reasons.append("it has no calendar: it never fires on its own")
    return whens, reasons


def spec_from_foreign(foreign: ForeignSchedule) -> tuple[dict[str, Any], list[str]]:
    """The equivalent ``spec`` and notes on what changes; NotExpressible lists what cannot be said."""
    reasons: list[str] = []
    if foreign.action_kind != "start workflow":
        reasons.append(f"its action is {foreign.action_kind}, not starting a workflow")
    whens, problems = _whens(foreign)
    reasons += problems
    if foreign.args is None:
        reasons.append("its workflow arguments are in an encoding Sundial cannot read (not JSON)")
    if foreign.retry_other:
        reasons.append("its retry policy sets more than maximumAttempts")
    if foreign.pause_on_failure:
        reasons.append("it pauses on failure (Sundial pauses by its own policy.maxConsecutiveFailures)")
    reasons += [f"its action sets {extra}" for extra in foreign.extras]
    if reasons:
        raise NotExpressible(foreign.schedule_id, reasons)
    notes: list[str] = []
    workflow: dict[str, Any] = {"type": foreign.workflow_type, "taskQueue": foreign.task_queue,
                                "args": list(foreign.args or ())}
    if foreign.retry_maximum_attempts is not None:
        workflow["retry"] = {"maximumAttempts": foreign.retry_maximum_attempts}
    spec: dict[str, Any] = {**({"schedule": whens[0]} if len(whens) == 1 else {"schedules": whens}),
                            "timeZone": foreign.time_zone or "UTC", "workflow": workflow,
                            "policy": {"overlap": foreign.overlap}}
    if foreign.catchup_window:
        spec["policy"]["catchupWindow"] = _duration(foreign.catchup_window)
    if foreign.run_timeout:
        spec["timeoutSeconds"] = max(1, int(foreign.run_timeout.total_seconds()))
    else:
        notes.append("the runs had no run timeout in Temporal; Sundial sets timeoutSeconds (600 by default)")
    for key, value in (("startAt", foreign.start_at), ("endAt", foreign.end_at)):
        if value is not None:
            spec[key] = _stamp(value)
    if foreign.jitter:
        spec["jitter"] = _duration(foreign.jitter)
    if foreign.paused:
        spec["paused"], spec["pauseReason"] = True, foreign.note or "paused in Temporal before adoption"
    notes.append(f"new runs get workflow IDs {foreign.schedule_id}-<time> (Sundial's rule); earlier runs keep theirs")
    notes.append("Sundial passes its run envelope (scheduleId, tenant, creator, budget) as the first workflow "
                 "argument, before the args below: the workflow must accept it")
    notes.append(f"the operator must allow workflow type {foreign.workflow_type} and task queue {foreign.task_queue} "
                 "(SUNDIAL_ALLOWED_WORKFLOW_TYPES, SUNDIAL_ALLOWED_TASK_QUEUES)")
    return spec, notes


def adoption_refusal(schedule_id: str, memo: Mapping[str, str], identity: ScheduleIdentity) -> str | None:
    """Why ``identity`` may not adopt the schedule, or None when it may (see docs/adoption.md).

    Refused: a schedule Sundial manages for another resource (its memo or its ID says so), one
    whose memo names another owner, and one whose ``sundial.dev/adoptable-by`` memo does not
    list the resource's namespace.
    """
    owner = identity_from_memo(dict(memo))
    if owner is not None:
        if owner.same_resource_name(identity) and owner.cluster_id == identity.cluster_id:
            return None if owner.uid == identity.uid else f"it belongs to an earlier resource (uid {owner.uid})"
        return f"it is managed by Sundial for {owner.namespace}/{owner.name} (cluster {owner.cluster_id})"
    if MANAGED_BY in memo:
        return f"its memo says {MANAGED_BY}={memo[MANAGED_BY]}"
    if parse_schedule_id(schedule_id) is not None and schedule_id != identity.schedule_id:
        return "its ID is a Sundial schedule ID of another resource"
    for key, value in memo.items():
        if key.lower().rsplit("/", 1)[-1] in OWNER_KEYS:
            return f"its memo names another owner ({key}={value})"
    allowed = memo.get(ADOPTABLE_BY)
    if allowed is not None and identity.namespace not in {n.strip() for n in allowed.split(",")}:
        return f"its memo {ADOPTABLE_BY}={allowed} does not list namespace {identity.namespace}"
    return None


def recreate_window(next_fires: tuple[datetime, ...], now: datetime, margin: timedelta) -> timedelta | None:
    """None when delete-and-recreate may happen now (no fire within ``margin``), else how long to wait."""
    upcoming = [t for t in next_fires if t > now - margin]
    if not upcoming or upcoming[0] - now >= margin:
        return None
    return upcoming[0] - now + margin


def moved_deterministic(recorded: str, deterministic: str) -> bool:
    """``recorded`` is this resource's deterministic ID under another cluster ID (the setting changed)."""
    old, new = parse_schedule_id(recorded), parse_schedule_id(deterministic)
    return old is not None and new is not None and old[1:] == new[1:] and old[0] != new[0]


def adopted_schedule_id(body: Mapping[str, Any], deterministic: str) -> str | None:
    """The Temporal ID this resource runs under when it is not the deterministic one.

    Once the status records an ID, that ID stays (a later edit of the annotation never makes
    a second schedule); before that, ``sundial.dev/adopt`` names the schedule to take over.
    """
    recorded = (status_of(body).get("temporal") or {}).get("scheduleId")
    if recorded:
        if recorded == deterministic or moved_deterministic(str(recorded), deterministic):
            return None  # its own ID under an earlier SUNDIAL_CLUSTER_ID: moved (controller/moves.py), not adopted
        return str(recorded)
    wanted = ((body.get("metadata") or {}).get("annotations") or {}).get(ADOPT_ANNOTATION)
    return str(wanted).strip() or None if wanted else None


def adopted_id(status: Status) -> str:
    """The adopted Temporal ID a resource runs under, or "" for its own deterministic one."""
    schedule_id = str((status.get("temporal") or {}).get("scheduleId") or "")
    return schedule_id if schedule_id and parse_schedule_id(schedule_id) is None else ""
