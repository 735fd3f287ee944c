"""What Sundial wants in Temporal, what it saw there, and what to do about the difference.

Pure: no I/O and no ``temporalio.client`` (only ``adapters/temporal.py`` talks to Temporal),
so every rule here is tested with plain tables.

Identity (``sundial.domain.identity``, re-exported here). A ``Schedule`` resource owns exactly
one Temporal schedule whose ID is a function of (cluster, namespace, name); a crash between
"created in Temporal" and "status written" is repaired by adopting that ID, never by a
second schedule. The memo (write-once in Temporal) carries only identity.

Fingerprint/plan contract. Temporal rewrites cron text into structured calendars, so we
never compare our cron with the server's. Instead two hashes are recorded in the
resource status after every write (``Recorded``):

- ``spec_hash(desired)``: a hash of what we sent (not the pause state nor the run count
  carried under ``max_runs``). A different hash next time means a spec change -> update.
- ``fingerprint``: a hash of what the *server showed* right after our write, computed by
  the adapter from a describe in a normalized form (calendars, intervals, zone, window,
  jitter, action, policies; never cron text, memo, pause state). It has two parts,
  ``"<listed>.<rest>"``: ``listed`` covers only what a list entry carries (spec +
  workflow type), so a sweep over ``list_schedules`` pages can detect out-of-band edits
  without a describe per schedule; ``rest`` covers the action details and policies that
  only a describe shows. A server fingerprint different from the recorded one means
  someone edited the schedule outside Sundial -> update (put it back to the spec).

Pause state is compared directly, not by hash, so pausing is never a "spec change";
``desired.paused`` is the effective pause (``spec.paused`` or an automatic pause).
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sundial.domain.cron import Interval
from sundial.domain.identity import MANAGED_BY as MANAGED_BY
from sundial.domain.identity import ScheduleIdentity as ScheduleIdentity
from sundial.domain.identity import cluster_prefix as cluster_prefix
from sundial.domain.identity import identity_from_memo as identity_from_memo
from sundial.domain.identity import parse_schedule_id as parse_schedule_id

Json = Any  # a JSON-able value: dict/list/str/int/float/bool/None, nested

OVERLAP_POLICIES = ("Skip", "BufferOne", "BufferAll", "CancelOther", "TerminateOther", "AllowAll")


@dataclass(frozen=True)
class DesiredSchedule:
    """Everything Sundial writes into a Temporal schedule, apart from the memo."""

    crons: tuple[str, ...]  # 5 fields or @hourly/@daily/...; Temporal's cron_expressions take them as is
    workflow_type: str
    task_queue: str
    workflow_id: str  # the runs' ID prefix: the schedule ID
    time_zone: str = "UTC"  # of the crons; intervals count from the Unix epoch in UTC
    intervals: tuple[Interval, ...] = ()  # @every: Temporal's interval specs
    start_at: datetime | None = None
    end_at: datetime | None = None
    jitter: timedelta | None = None
    args: tuple[Json, ...] = ()
    run_timeout: timedelta = timedelta(seconds=600)
    retry_maximum_attempts: int = 1
    execution_timeout: timedelta | None = None  # all attempts of one run, retries included
    overlap: str = "Skip"
    catchup_window: timedelta = timedelta(hours=1)
    paused: bool = False
    note: str = ""
    max_runs: int | None = None  # Temporal's limited actions; see remaining_runs_for
    runs_used: int = 0  # scheduled runs already taken under the limit (status), not hashed
    limit_base: int | None = None  # the max_runs Temporal's remaining count was set against, not hashed

    def __post_init__(self) -> None:
        if self.overlap not in OVERLAP_POLICIES:
            raise ValueError(f"overlap {self.overlap!r} is not one of {', '.join(OVERLAP_POLICIES)}")


def _canonical(value: Any) -> Any:
    """A JSON-able form that is the same for equal values (UTC instants, seconds)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


def stable_digest(value: Any) -> str:
    """16 hex characters of sha256 over a canonical JSON rendering of ``value``."""
    text = json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


_UNHASHED = ("paused", "note", "runs_used", "limit_base")  # and max_runs when None: old hashes stay valid


def spec_hash(desired: DesiredSchedule) -> str:
    """Hash of what we write, except the pause state, so pause toggles are not spec changes.

    One cron and no interval hash as they did before ``spec.schedules`` existed (``cron``), so an
    upgrade does not rewrite every schedule.
    """
    fields = {k: v for k, v in asdict(desired).items() if k not in _UNHASHED and (k, v) != ("max_runs", None)}
    if len(desired.crons) == 1 and not desired.intervals:
        del fields["crons"], fields["intervals"]
        fields["cron"] = desired.crons[0]
    return stable_digest(fields)


def task_input(schedule_id: str, query: str, context: dict[str, Json] | None, max_budget_per_run_usd: float,
               user_id: str, tenant_id: str) -> dict[str, Json]:
    """The single workflow argument, ``domain.contract.TaskInput`` (``context`` is copied, never changed)."""
    task_context = copy.deepcopy(context) if context else {}
    task_context["max_budget_usd"] = max_budget_per_run_usd
    return {"schedule_id": schedule_id, "task_query": query, "task_context": task_context,
            "max_budget_per_run_usd": max_budget_per_run_usd, "user_id": user_id, "tenant_id": tenant_id}


@dataclass(frozen=True)
class RecentAction:
    """One run the schedule started (Temporal keeps the last 10)."""

    scheduled_at: datetime
    started_at: datetime
    workflow_id: str
    run_id: str


@dataclass(frozen=True)
class ListedSchedule:
    """A schedule as one entry of a list page shows it (no describe needed)."""

    schedule_id: str
    memo: dict[str, str]
    paused: bool
    note: str
    workflow_type: str
    listed_fingerprint: str  # the ``listed`` part of a fingerprint
    next_action_times: tuple[datetime, ...] = ()
    recent_actions: tuple[RecentAction, ...] = ()
    end_at: datetime | None = None

    @property
    def identity(self) -> ScheduleIdentity | None:
        return identity_from_memo(self.memo)


@dataclass(frozen=True)
class ObservedSchedule:
    """A schedule as a describe shows it."""

    schedule_id: str
    memo: dict[str, str]
    paused: bool
    note: str
    workflow_type: str
    task_queue: str
    fingerprint: str  # "<listed>.<rest>", see the module docstring
    next_action_times: tuple[datetime, ...] = ()
    recent_actions: tuple[RecentAction, ...] = ()
    running_workflow_ids: tuple[str, ...] = ()
    action_count: int = 0
    args: tuple[Json, ...] = ()
    run_timeout: timedelta | None = None
    time_zone: str | None = None
    end_at: datetime | None = None
    limited: bool = False  # Temporal's limited actions
    remaining_actions: int = 0

    @property
    def identity(self) -> ScheduleIdentity | None:
        return identity_from_memo(self.memo)

    @property
    def listed_fingerprint(self) -> str:
        return self.fingerprint.partition(".")[0]


@dataclass(frozen=True)
class Recorded:
    """What the reconcile stored in status after its last successful write to Temporal."""

    spec_hash: str
    fingerprint: str  # ObservedSchedule.fingerprint of the describe right after that write


def fingerprint_matches(recorded: str, observed: ObservedSchedule | ListedSchedule) -> bool:
    """Whether the server still shows what it showed after our last write."""
    if isinstance(observed, ListedSchedule):
        return recorded.partition(".")[0] == observed.listed_fingerprint
    return recorded == observed.fingerprint


@dataclass(frozen=True)
class Plan:
    """What to do in Temporal; all false/None means nothing.

    ``create`` and ``update`` write the whole schedule including its pause state, so
    ``set_paused`` is only set when neither is. ``recreate`` means delete then create:
    the ID is held by a schedule of an earlier resource with the same name (another uid),
    and the memo cannot be updated. ``conflict`` means the ID is held by a schedule that is
    not this cluster's resource's: touch nothing and report.
    """

    create: bool = False
    recreate: bool = False
    update: bool = False
    set_paused: bool | None = None
    conflict: str | None = None
    foreign: bool = False  # the conflict: another operator install uses this cluster ID
    reasons: tuple[str, ...] = field(default=(), compare=False)

    @property
    def nothing(self) -> bool:
        return not (self.create or self.recreate or self.update or self.conflict) and self.set_paused is None


def plan(identity: ScheduleIdentity, desired: DesiredSchedule,
         observed: ObservedSchedule | ListedSchedule | None, recorded: Recorded | None) -> Plan:
    """Compare what we want with what Temporal shows; see the module docstring."""
    if observed is None:
        return Plan(create=True, reasons=("not in Temporal",))
    theirs = observed.identity
    if theirs is None or not theirs.same_resource_name(identity):
        return Plan(conflict=f"Temporal schedule {observed.schedule_id} is not managed by this resource "
                             f"(memo: {observed.memo})")
    if theirs.other_install(identity):  # two clusters share one cluster ID: touch nothing, report
        return Plan(conflict=f"Temporal schedule {observed.schedule_id} carries this cluster ID but was written "
                             f"by operator install {theirs.install_id} (this one is {identity.install_id})",
                    foreign=True)
    if theirs.uid != identity.uid:
        why = f"left by an earlier resource with this name (uid {theirs.uid})"
        return Plan(recreate=True, reasons=(why,))
    reasons: list[str] = []
    if recorded is None:
        reasons.append("adopting a schedule not yet recorded in status")
    else:
        if recorded.spec_hash != spec_hash(desired):
            reasons.append("spec changed")
        if not fingerprint_matches(recorded.fingerprint, observed):
            reasons.append("edited in Temporal outside Sundial")
    if reasons:
        return Plan(update=True, reasons=tuple(reasons))
    if observed.paused != desired.paused:
        why = "pause" if desired.paused else "unpause"
        return Plan(set_paused=desired.paused, reasons=(f"{why}: Temporal shows paused={observed.paused}",))
    if desired.paused and observed.note != desired.note:
        return Plan(set_paused=True, reasons=("pause note differs",))
    return Plan()
