"""Turn what the reconcile saw into the resource's status: phase and kstatus conditions.

Pure: ``now`` is a parameter. Conditions follow cert-manager's rules: reasons are the
constants of :mod:`sundial.domain.conditions`, ``lastTransitionTime`` moves only when a condition's status
flips, and ``status_changes`` returns only what differs, so an idle reconcile or sweep
writes nothing to Kubernetes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from sundial.domain.conditions import (
    ACTIVE,
    COMPLETED,
    DELETING,
    FIRING,
    ON_TIME,
    PAUSED,
    PENDING,
    PROGRESSING,
    READY,
    RECONCILING,
    SPEC_VALID,
    STALLED,
    SYNCED,
    TEMPORAL_UNAVAILABLE,
)
from sundial.domain.messages import bounded
from sundial.domain.patches import changed_leaves, merged
from sundial.domain.status_dicts import ConditionDict, ScheduleStatusDict, TemporalRefDict

#: The status as the operator builds and reads it: a plain dict, typed by the generated TypedDict.
Status = ScheduleStatusDict


def status_of(body: Mapping[str, Any]) -> Status:
    """A resource's status, typed: the one place an untyped body's status becomes a ``Status``.

    Not validated (that would cost CPU per schedule on every sweep): the operator is its only writer.
    """
    return cast(Status, body.get("status") or {})


def merged_status(status: Status, patch: Status) -> Status:
    """``status`` after the JSON merge patch ``patch``: what the apiserver will hold."""
    return cast(Status, merged(status, patch))  # a merge patch of a status is a status


def status_patch(previous: Status, new: Status) -> Status:
    """The merge patch that sets what ``new`` changes from ``previous``, leaf by leaf (``changed_leaves``)."""
    return cast(Status, changed_leaves(previous, new))  # a subset of ``new``'s leaves


def conditions_of(status: Status) -> list[ConditionDict]:
    """A copy of ``status.conditions`` (none: empty), for ``with_condition``."""
    return list(status.get("conditions") or ())


def conditions_by_type(status: Status) -> dict[str, ConditionDict]:
    """``status.conditions`` by type (one pass, for readers of several). An entry that is not an object
    is skipped: the metrics scrape reads every status and must not fail on one."""
    return {c.get("type") or "": c for c in status.get("conditions") or () if isinstance(c, Mapping)}


def condition(status: Status, type_: str) -> ConditionDict | None:
    """The condition of this type in ``status``, if there is one."""
    return next((c for c in status.get("conditions") or () if c.get("type") == type_), None)


def rfc3339(moment: datetime) -> str:
    """UTC, second precision, trailing Z: the form Kubernetes uses."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_time(moment: datetime, zone: str) -> str:
    """The instant as wall-clock time in the schedule's zone, e.g. ``2026-12-16 09:00 JST``."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def with_condition(
    conditions: list[ConditionDict], type_: str, status: bool, reason: str, message: str,
    generation: int, now: datetime,
) -> list[ConditionDict]:
    """A copy of ``conditions`` with one condition set; the transition time moves only on a flip."""
    wanted: Literal["True", "False"] = "True" if status else "False"
    previous = next((c for c in conditions if c.get("type") == type_), None)
    transition = rfc3339(now)
    if previous is not None and previous.get("status") == wanted:
        transition = previous.get("lastTransitionTime") or transition
    changed: ConditionDict = {
        "type": type_, "status": wanted, "reason": reason, "message": bounded(message),
        "observedGeneration": generation, "lastTransitionTime": transition,
    }
    others = [c for c in conditions if c.get("type") != type_]
    return sorted([*others, changed], key=lambda c: _CONDITION_ORDER.get(c["type"], 99))


_CONDITION_ORDER = {READY: 0, PAUSED: 1, RECONCILING: 2, STALLED: 3, FIRING: 4}


@dataclass(frozen=True)
class PauseState:
    """Why the Temporal schedule is paused, when it is."""

    reason: str  # USER_REQUESTED | CONSECUTIVE_FAILURES | BUDGET_EXHAUSTED
    message: str


def synced_status(
    previous: Status, generation: int, temporal_ref: TemporalRefDict, next_run: datetime | None,
    zone: str, pause: PauseState | None, now: datetime, wrote_to_temporal: bool,
) -> Status:
    """Temporal matches the spec (or was just brought to it)."""
    conditions = conditions_of(previous)
    conditions = with_condition(conditions, READY, True, SYNCED, "Temporal schedule matches the spec",
                                generation, now)
    if pause is None:
        conditions = with_condition(conditions, PAUSED, False, ACTIVE, resumed_message(previous), generation, now)
    else:
        conditions = with_condition(conditions, PAUSED, True, pause.reason, pause.message, generation, now)
    conditions = with_condition(conditions, RECONCILING, False, SYNCED, "", generation, now)
    conditions = with_condition(conditions, STALLED, False, SPEC_VALID, "", generation, now)
    if not any(c.get("type") == FIRING for c in conditions):  # the watchdog owns it from here on
        conditions = with_condition(conditions, FIRING, True, ON_TIME, "", generation, now)
    status: Status = {
        "observedGeneration": generation,
        "phase": "Paused" if pause else "Active",
        "conditions": conditions,
        "temporal": temporal_ref,
        "nextRunTime": rfc3339(next_run) if next_run and not pause else None,
        "nextRunTimeLocal": local_time(next_run, zone) if next_run and not pause else None,
        "lastSyncTime": rfc3339(now) if wrote_to_temporal else previous.get("lastSyncTime") or rfc3339(now),
    }
    return status


def resumed_message(previous: Status) -> str:
    """When and why the last ``sundial resume`` lifted a pause (written with its acknowledgement)."""
    return str((previous.get("requests") or {}).get("resumeNote") or "")


def refused_status(previous: Status, generation: int, reason: str, message: str, now: datetime) -> Status:
    """The spec breaks a rule: Stalled, and Ready=False. The last good Temporal schedule stays."""
    conditions = conditions_of(previous)
    conditions = with_condition(conditions, READY, False, reason, message, generation, now)
    conditions = with_condition(conditions, RECONCILING, False, reason, "", generation, now)
    conditions = with_condition(conditions, STALLED, True, reason, message, generation, now)
    return {"observedGeneration": generation, "phase": "Invalid", "conditions": conditions}


def never_synced(previous: Status) -> bool:
    """No Temporal schedule was ever recorded: the first successful reconcile is still to come."""
    return not (previous.get("temporal") or {}).get("scheduleId")


def reconciling_status(previous: Status, generation: int, now: datetime) -> Status:
    """A spec change is about to be applied: Reconciling=True, and ``phase: Pending`` (Ready=False)
    on a resource never synced. ``observedGeneration`` moves only once the change is applied."""
    conditions = conditions_of(previous)
    conditions = with_condition(conditions, RECONCILING, True, PROGRESSING, f"applying generation {generation}",
                                generation, now)
    if not never_synced(previous):
        return {"conditions": conditions}
    conditions = with_condition(conditions, READY, False, PENDING, "not yet created in Temporal", generation, now)
    return {"phase": PENDING, "conditions": conditions}


def unavailable_status(previous: Status, generation: int, message: str, now: datetime,
                       reason: str = TEMPORAL_UNAVAILABLE) -> Status:
    """Temporal did not answer, or not for us yet (``reason``): Ready=False, Reconciling=True, retried
    with backoff; never Stalled (nothing in the spec is wrong). A resource never synced stays
    ``Pending``; one that was synced shows ``Error``."""
    conditions = conditions_of(previous)
    conditions = with_condition(conditions, READY, False, reason, message, generation, now)
    conditions = with_condition(conditions, RECONCILING, True, reason, message, generation, now)
    return {"phase": PENDING if never_synced(previous) else "Error", "conditions": conditions}


def deleting_status(previous: Status, generation: int, message: str, now: datetime) -> Status:
    conditions = conditions_of(previous)
    conditions = with_condition(conditions, READY, False, DELETING, message, generation, now)
    return {"phase": "Deleting", "conditions": conditions}


def with_run_limit(synced: Status, limited: bool, remaining: int) -> Status:
    """``remainingRuns`` as Temporal counts them under spec.maxRuns (absent without it)."""
    return {**synced, "remainingRuns": remaining if limited else None}


def completed_status(synced: Status, message: str, generation: int, now: datetime) -> Status:
    """The Temporal schedule can never fire again: phase Completed, Ready=True reason Completed."""
    conditions = with_condition(conditions_of(synced), READY, True, COMPLETED, message,
                                generation, now)
    return {**synced, "phase": COMPLETED, "conditions": conditions, "nextRunTime": None, "nextRunTimeLocal": None}


def completed_kept(previous: Status, generation: int, now: datetime) -> Status:
    """Still Completed at a new generation that changes nothing in Temporal (e.g. a description edit)."""
    conditions = with_condition(conditions_of(previous), RECONCILING, False, COMPLETED, "",
                                generation, now)
    return {**previous, "observedGeneration": generation, "conditions": conditions}


def status_changes(previous: Status, new: Status) -> Status:
    """Only the top-level fields of ``new`` that differ from ``previous`` (empty: write nothing)."""
    changes = {key: value for key, value in new.items() if previous.get(key) != value}
    return cast(Status, changes)  # a subset of ``new``'s keys, each with its value


def rebase(previous: Status, new: Status, current: Status) -> Status:
    """What this writer changed from ``previous`` to ``new``, re-applied on ``current`` (the status the
    server holds after someone else wrote): of the conditions, only the types this writer changed
    replace ``current``'s, so the other writer's condition survives. Empty: nothing left to write."""
    ours = status_changes(previous, new)
    if "conditions" in ours:
        before, after = conditions_by_type(previous), conditions_by_type(new)
        touched = {t for t in after if before.get(t) != after[t]} | (set(before) - set(after))
        kept = [c for c in conditions_of(current) if (c.get("type") or "") not in touched]
        ours["conditions"] = sorted([*kept, *(after[t] for t in touched if t in after)],
                                    key=lambda c: _CONDITION_ORDER.get(c.get("type") or "", 99))
    return status_changes(current, ours)
