"""What one sweep should do, decided from a Temporal list page and the resource index alone.

Pure: no I/O, ``now`` is a parameter. The sweeper lists this cluster's Temporal schedules in
pages, snapshots the operator's index of the resources (``domain.indexed``) and asks ``plan_sweep``.
A list entry carries memo, pause state, next action times and the ``listed`` part of a
fingerprint, so an idle sweep costs O(N / page size) list calls and decides "nothing" without a
describe or a Kubernetes read. A list's suspicion is confirmed first (``confirm_drift``);
orphans are acted on when seen in two sweeps in a row. Ours = memo ``managed-by: sundial``,
this cluster's ID and the ID derived from that memo; others: untouched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sundial.domain.completion import end_reason
from sundial.domain.conditions import OVERDUE
from sundial.domain.desired import ListedSchedule, ObservedSchedule, fingerprint_matches
from sundial.domain.indexed import IndexedSchedule, Key
from sundial.domain.status import Status, local_time, rfc3339


class Drift(StrEnum):
    """How a managed schedule differs from what its resource last recorded."""

    MISSING = "missing"  # deleted in Temporal
    EDITED = "edited"  # spec/action changed outside Sundial (listed fingerprint differs)
    PAUSED = "paused"  # paused outside Sundial
    UNPAUSED = "unpaused"  # unpaused outside Sundial
    REPLACED = "replaced"  # the ID is held by a schedule of an earlier resource with this name
    ENDED = "ended"  # can never fire again: the reconcile marks it Completed (not a repair)


class Ownership(StrEnum):
    OURS = "ours"
    OTHER_CLUSTER = "other-cluster"
    OTHER_INSTALL = "other-install"  # this cluster ID, another operator install: a conflict to report
    UNMANAGED = "unmanaged"
    UNWATCHED = "unwatched"  # ours, but in a namespace this (namespace-scoped) operator does not watch


def ownership(entry: ListedSchedule | ObservedSchedule, cluster_id: str, install_id: str = "") -> Ownership:
    identity = entry.identity
    if identity is None:
        return Ownership.UNMANAGED
    if identity.cluster_id != cluster_id or identity.schedule_id != entry.schedule_id:
        return Ownership.OTHER_CLUSTER
    if install_id and identity.install_id and identity.install_id != install_id:
        return Ownership.OTHER_INSTALL
    return Ownership.OURS


def drift_of(indexed: IndexedSchedule, entry: ListedSchedule | ObservedSchedule | None,
             now: datetime | None = None) -> Drift | None:
    """Drift of a settled resource against what Temporal shows (list entry or describe); with ``now``,
    also a schedule that ended (see ``looks_ended``)."""
    if not indexed.settled or indexed.adopted:
        return None
    if entry is None:
        return Drift.MISSING
    identity = entry.identity
    if identity is not None and identity.uid != indexed.uid:
        return Drift.REPLACED
    if not fingerprint_matches(indexed.fingerprint or "", entry):
        return Drift.EDITED
    if now is not None and looks_ended(indexed, entry, now):
        return Drift.ENDED
    if entry.paused != indexed.expected_paused:
        return Drift.PAUSED if entry.paused else Drift.UNPAUSED
    return None


def looks_ended(indexed: IndexedSchedule, entry: ListedSchedule | ObservedSchedule, now: datetime) -> bool:
    """No next time, and the window over or (spec.maxRuns) maybe used up: a describe confirms that."""
    if entry.next_action_times or indexed.phase != "Active":
        return False
    if isinstance(entry, ListedSchedule) and indexed.max_runs is not None and not entry.paused:
        return True
    return end_reason(entry, now) is not None


def confirm_drift(indexed: IndexedSchedule, observed: ObservedSchedule | None,
                  cluster_id: str, now: datetime | None = None, install_id: str = "") -> Drift | None:
    """The same judgement from a describe and a fresh read of the resource (list entries lag).

    A schedule at our ID that is not ours is a conflict for the reconcile to report, not drift.
    """
    if observed is not None and ownership(observed, cluster_id, install_id) is not Ownership.OURS:
        return None
    return drift_of(indexed, observed, now)


def is_orphan(entry: ListedSchedule | ObservedSchedule, indexed: IndexedSchedule | None,
              cluster_id: str, install_id: str = "") -> bool:
    """Ours, and no resource claims it: none with its name, or an Invalid one with another uid."""
    identity = entry.identity
    if identity is None or ownership(entry, cluster_id, install_id) is not Ownership.OURS:
        return False
    if indexed is None:
        return True
    return indexed.uid != identity.uid and indexed.phase == "Invalid" and not indexed.deleting


def orphan_action(policy: str, entry: ListedSchedule | ObservedSchedule, reported: bool) -> str | None:
    """What the orphan policy does to a confirmed orphan: delete, pause, report, or None (done already)."""
    if policy == "delete":
        return "delete"
    if policy == "pause":
        return None if entry.paused else "pause"
    return None if reported else "report"


def overdue_since(indexed: IndexedSchedule, entry: ListedSchedule, now: datetime,
                  grace: timedelta) -> datetime | None:
    """The next action time that passed more than ``grace`` ago with no run recorded since, if any.

    Temporal has been seen to stop firing while still showing a next time: that time then
    lies in the past. Paused schedules are not watched.
    """
    if indexed.expected_paused or entry.paused or not entry.next_action_times:
        return None
    due = entry.next_action_times[0]
    if now - due <= grace:
        return None
    if any(action.scheduled_at >= due for action in entry.recent_actions):
        return None
    return due


@dataclass(frozen=True)
class FiringChange:
    """A flip of the Firing condition (to False/Overdue, or back to True)."""

    key: Key
    firing: bool
    message: str


def firing_change(key: Key, indexed: IndexedSchedule, entry: ListedSchedule, now: datetime,
                  grace: timedelta) -> FiringChange | None:
    due = overdue_since(indexed, entry, now, grace)
    overdue_now = indexed.firing == "False" and indexed.firing_reason == OVERDUE
    if due is not None and not overdue_now:
        minutes = int((now - due).total_seconds() // 60)
        return FiringChange(key, False, f"the next run time {rfc3339(due)} passed {minutes} min ago "
                                        "with no run started")
    if due is None and overdue_now:
        why = "paused: not watched while paused" if (indexed.expected_paused or entry.paused) \
            else "the schedule fires again"
        return FiringChange(key, True, why)
    return None


def next_run_patch(indexed: IndexedSchedule, entry: ListedSchedule) -> Status | None:
    """``nextRunTime``/``nextRunTimeLocal`` from the list entry, when they changed; else None.

    Only when the entry reflects our last write (its fingerprint matches and the pause
    state is the expected one), so a list lagging behind a reconcile never writes an old time.
    """
    if not indexed.settled or indexed.expected_paused or entry.paused:
        return None
    if not fingerprint_matches(indexed.fingerprint or "", entry):
        return None
    first = entry.next_action_times[0] if entry.next_action_times else None
    new = rfc3339(first) if first else None
    if new == indexed.next_run_time:
        return None
    return {"nextRunTime": new, "nextRunTimeLocal": local_time(first, indexed.time_zone) if first else None}


@dataclass(frozen=True)
class SweepPlan:
    """Everything one sweep decided; all empty means an idle sweep (no writes at all)."""

    drift: tuple[tuple[Key, Drift], ...] = ()
    orphans_seen: frozenset[str] = frozenset()  # schedule IDs that look orphaned in this sweep
    orphans_due: tuple[ListedSchedule, ...] = ()  # ... and did in the previous sweep too
    foreign: tuple[str, ...] = ()  # schedule IDs with this cluster ID written by another operator install
    conflicts: tuple[Key, ...] = ()  # settled resources whose ID holds another install's schedule: to report
    next_runs: tuple[tuple[Key, Status], ...] = ()
    firing: tuple[FiringChange, ...] = ()
    listed: int = 0
    ignored: dict[Ownership, int] = field(default_factory=dict)
    overdue: int = 0

    @property
    def idle(self) -> bool:
        return not (self.drift or self.orphans_due or self.next_runs or self.firing or self.conflicts)


def plan_sweep(cluster_id: str, entries: Iterable[ListedSchedule], index: Mapping[Key, IndexedSchedule],
               previous_orphans: frozenset[str], now: datetime, grace: timedelta,
               watched: frozenset[str] | None = None, install_id: str = "") -> SweepPlan:
    """Hold one full listing against the index; see the module docstring.

    ``watched`` names the namespaces of a namespace-scoped operator (None: all): schedules of
    other namespaces belong to resources this operator cannot see, so they are never orphans here.
    ``install_id``: schedules with this cluster ID written by another install are conflicts
    (``SweepPlan.foreign``), never orphans or drift.
    """
    ours: dict[Key, ListedSchedule] = {}
    ignored: dict[Ownership, int] = {}
    orphans_seen: set[str] = set()
    orphans_due: list[ListedSchedule] = []
    foreign: list[str] = []
    foreign_keys: set[Key] = set()
    conflicts: list[Key] = []
    listed = 0
    for entry in entries:
        listed += 1
        kind = ownership(entry, cluster_id, install_id)
        identity = entry.identity
        if kind is Ownership.OTHER_INSTALL and identity is not None:
            foreign.append(entry.schedule_id)
            foreign_keys.add((identity.namespace, identity.name))
        if kind is Ownership.OURS and identity and watched is not None and identity.namespace not in watched:
            kind = Ownership.UNWATCHED
        if kind is not Ownership.OURS or identity is None:
            ignored[kind] = ignored.get(kind, 0) + 1
            continue
        key = (identity.namespace, identity.name)
        ours[key] = entry
        if is_orphan(entry, index.get(key), cluster_id, install_id):
            orphans_seen.add(entry.schedule_id)
            if entry.schedule_id in previous_orphans:
                orphans_due.append(entry)
    drift: list[tuple[Key, Drift]] = []
    next_runs: list[tuple[Key, Status]] = []
    firing: list[FiringChange] = []
    overdue = 0
    for key, indexed in index.items():
        if key in foreign_keys and key not in ours:  # another install's schedule at this resource's ID:
            if indexed.settled:  # no repair; a reconcile reports it (a resume no longer describes)
                conflicts.append(key)
            continue
        found = drift_of(indexed, ours.get(key), now)
        if found is not None:
            drift.append((key, found))
            continue
        mine = ours.get(key)
        if mine is None or not indexed.settled:
            continue
        patch = next_run_patch(indexed, mine)
        if patch is not None:
            next_runs.append((key, patch))
        change = firing_change(key, indexed, mine, now, grace)
        if change is not None:
            firing.append(change)
        if overdue_since(indexed, mine, now, grace) is not None:
            overdue += 1
    return SweepPlan(drift=tuple(drift), orphans_seen=frozenset(orphans_seen), orphans_due=tuple(orphans_due),
                     foreign=tuple(foreign), conflicts=tuple(conflicts),
                     next_runs=tuple(next_runs), firing=tuple(firing), listed=listed, ignored=ignored,
                     overdue=overdue)
