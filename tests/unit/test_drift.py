"""What a sweep decides from a list page and the resource index, as tables of cases."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sundial.domain.desired import ListedSchedule, ObservedSchedule, RecentAction, ScheduleIdentity
from sundial.domain.drift import (
    Drift,
    Ownership,
    confirm_drift,
    drift_of,
    firing_change,
    is_orphan,
    next_run_patch,
    orphan_action,
    overdue_since,
    ownership,
    plan_sweep,
)
from sundial.domain.indexed import IndexedSchedule, indexed_from_body

CLUSTER = "cluster-a"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
GRACE = timedelta(minutes=5)
IDENTITY = ScheduleIdentity(CLUSTER, "team-a", "news", "uid-1")
KEY = ("team-a", "news")


def indexed(**changes: Any) -> IndexedSchedule:
    base = IndexedSchedule(uid="uid-1", generation=2, observed_generation=2, phase="Active",
                           fingerprint="aaaa.bbbb", next_run_time="2026-11-22T13:00:00Z",
                           time_zone="Asia/Tokyo", firing="True", firing_reason="OnTime")
    return dataclasses.replace(base, **changes)


def listed(identity: ScheduleIdentity = IDENTITY, schedule_id: str | None = None,
           **changes: Any) -> ListedSchedule:
    base = ListedSchedule(schedule_id=schedule_id or identity.schedule_id, memo=identity.memo(), paused=False,
                          note="", workflow_type="ScheduledTaskWorkflow", listed_fingerprint="aaaa",
                          next_action_times=(datetime(2026, 11, 22, 13, 0, tzinfo=UTC),))
    return dataclasses.replace(base, **changes)


def observed(**changes: Any) -> ObservedSchedule:
    base = ObservedSchedule(schedule_id=IDENTITY.schedule_id, memo=IDENTITY.memo(), paused=False, note="",
                            workflow_type="ScheduledTaskWorkflow", task_queue="sundial-tasks",
                            fingerprint="aaaa.bbbb")
    return dataclasses.replace(base, **changes)


def action(at: datetime) -> RecentAction:
    return RecentAction(scheduled_at=at, started_at=at + timedelta(seconds=1), workflow_id="w", run_id="r")


# --- whose schedule is it -----------------------------------------------------------------

@pytest.mark.parametrize(("entry", "expected"), [
    (listed(), Ownership.OURS),
    (listed(memo={}), Ownership.UNMANAGED),
    (listed(memo={**IDENTITY.memo(), "sundial.dev/managed-by": "someone-else"}), Ownership.UNMANAGED),
    (listed(ScheduleIdentity("cluster-b", "team-a", "news", "uid-1")), Ownership.OTHER_CLUSTER),
    (listed(memo=ScheduleIdentity("cluster-b", "team-a", "news", "u").memo(),
            schedule_id=IDENTITY.schedule_id), Ownership.OTHER_CLUSTER),
    (listed(schedule_id=IDENTITY.schedule_id + "-copy"), Ownership.OTHER_CLUSTER),
], ids=["ours", "no-memo", "managed-by-other", "other-cluster", "other-cluster-memo-our-id",
        "id-not-derived"])
def test_only_schedules_with_this_clusters_memo_and_derived_id_are_ours(entry: ListedSchedule,
                                                                         expected: Ownership) -> None:
    assert ownership(entry, CLUSTER) is expected


# --- drift ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("resource", "entry", "expected"), [
    (indexed(), listed(), None),
    (indexed(), None, Drift.MISSING),
    (indexed(), listed(listed_fingerprint="cccc"), Drift.EDITED),
    (indexed(), listed(paused=True), Drift.PAUSED),
    (indexed(expected_paused=True, status_paused=True, phase="Paused"), listed(), Drift.UNPAUSED),
    (indexed(expected_paused=True, status_paused=True, phase="Paused"), listed(paused=True), None),
    (indexed(), listed(ScheduleIdentity(CLUSTER, "team-a", "news", "uid-0")), Drift.REPLACED),
    (indexed(), listed(listed_fingerprint="cccc", paused=True), Drift.EDITED),
], ids=["in-step", "deleted", "edited", "paused-out-of-band", "unpaused-out-of-band", "paused-as-spec",
        "earlier-resource", "edit-wins-over-pause"])
def test_drift_of_a_settled_resource(resource: IndexedSchedule, entry: ListedSchedule | None,
                                     expected: Drift | None) -> None:
    assert drift_of(resource, entry) == expected


@pytest.mark.parametrize("resource", [
    indexed(phase="Pending"), indexed(phase="Invalid"), indexed(phase="Error"), indexed(phase=None),
    indexed(observed_generation=1), indexed(deleting=True), indexed(fingerprint=None),
    indexed(expected_paused=True), indexed(status_paused=True, phase="Paused"),
], ids=["pending", "invalid", "error", "no-status", "spec-change-in-flight", "deleting", "never-synced",
        "automatic-pause-not-applied-yet", "resume-in-flight"])
def test_resources_in_flight_are_left_to_kopf(resource: IndexedSchedule) -> None:
    assert drift_of(resource, None) is None
    assert drift_of(resource, listed(paused=True, listed_fingerprint="cccc")) is None


def test_an_automatic_pause_of_sundials_own_is_not_drift() -> None:
    body = {"metadata": {"uid": "uid-1", "generation": 2}, "spec": {"paused": False},
            "status": {"observedGeneration": 2, "phase": "Paused", "temporal": {"fingerprint": "aaaa.bbbb"},
                       "conditions": [{"type": "Paused", "status": "True", "reason": "ConsecutiveFailures"}],
                       "accounting": {"autoPause": {"reason": "ConsecutiveFailures"}}}}
    assert drift_of(indexed_from_body(body), listed(paused=True)) is None
    assert drift_of(indexed_from_body(body), listed(paused=False)) is Drift.UNPAUSED


def test_a_describe_confirms_with_the_whole_fingerprint() -> None:
    assert confirm_drift(indexed(), observed(), CLUSTER) is None
    assert confirm_drift(indexed(), observed(fingerprint="aaaa.dddd"), CLUSTER) is Drift.EDITED
    assert confirm_drift(indexed(), None, CLUSTER) is Drift.MISSING
    assert confirm_drift(indexed(), observed(paused=True), CLUSTER) is Drift.PAUSED


def test_a_foreign_schedule_at_our_id_is_a_conflict_not_drift() -> None:
    foreign = observed(memo=ScheduleIdentity("cluster-b", "team-a", "news", "x").memo())
    assert confirm_drift(indexed(), foreign, CLUSTER) is None


# --- orphans -------------------------------------------------------------------------------

@pytest.mark.parametrize(("entry", "resource", "expected"), [
    (listed(), None, True),
    (listed(), indexed(), False),
    (listed(), indexed(uid="uid-2", phase="Invalid"), True),
    (listed(), indexed(uid="uid-2", phase="Active"), False),
    (listed(), indexed(uid="uid-2", phase="Invalid", deleting=True), False),
    (listed(memo={}), None, False),
    (listed(ScheduleIdentity("cluster-b", "team-a", "news", "uid-1")), None, False),
], ids=["no-resource", "claimed", "invalid-resource-with-other-uid", "active-resource-takes-it-over",
        "resource-being-deleted", "not-sundials", "other-cluster"])
def test_what_counts_as_an_orphan(entry: ListedSchedule, resource: IndexedSchedule | None,
                                  expected: bool) -> None:
    assert is_orphan(entry, resource, CLUSTER) is expected


@pytest.mark.parametrize(("policy", "paused", "reported", "expected"), [
    ("delete", False, False, "delete"), ("delete", True, True, "delete"),
    ("pause", False, False, "pause"), ("pause", True, False, None),
    ("report", False, False, "report"), ("report", False, True, None),
])
def test_orphan_policy(policy: str, paused: bool, reported: bool, expected: str | None) -> None:
    assert orphan_action(policy, listed(paused=paused), reported) == expected


# --- the watchdog --------------------------------------------------------------------------

@pytest.mark.parametrize(("entry", "resource", "expected"), [
    (listed(next_action_times=(NOW + timedelta(hours=1),)), indexed(), None),
    (listed(next_action_times=(NOW - timedelta(minutes=4),)), indexed(), None),
    (listed(next_action_times=(NOW - timedelta(minutes=6),)), indexed(), NOW - timedelta(minutes=6)),
    (listed(next_action_times=(NOW - timedelta(minutes=6),),
            recent_actions=(action(NOW - timedelta(minutes=6)),)), indexed(), None),
    (listed(next_action_times=(NOW - timedelta(minutes=6),),
            recent_actions=(action(NOW - timedelta(minutes=66)),)), indexed(), NOW - timedelta(minutes=6)),
    (listed(next_action_times=(NOW - timedelta(minutes=6),), paused=True), indexed(), None),
    (listed(next_action_times=(NOW - timedelta(minutes=6),)), indexed(expected_paused=True), None),
    (listed(next_action_times=()), indexed(), None),
], ids=["future", "within-grace", "overdue", "fired-at-that-time", "only-an-older-run", "paused-in-temporal",
        "paused-by-spec", "no-next-time"])
def test_overdue_means_a_next_time_long_past_with_no_run(entry: ListedSchedule, resource: IndexedSchedule,
                                                         expected: datetime | None) -> None:
    assert overdue_since(resource, entry, NOW, GRACE) == expected


def test_firing_flips_to_false_once_and_back_when_it_fires_again() -> None:
    late = listed(next_action_times=(NOW - timedelta(minutes=10),))
    change = firing_change(KEY, indexed(), late, NOW, GRACE)
    assert change is not None and change.firing is False
    assert "2026-11-22T11:50:00Z" in change.message and "10 min" in change.message
    already = indexed(firing="False", firing_reason="Overdue")
    assert firing_change(KEY, already, late, NOW, GRACE) is None
    back = firing_change(KEY, already, listed(), NOW, GRACE)
    assert back is not None and back.firing is True
    assert firing_change(KEY, indexed(), listed(), NOW, GRACE) is None
    assert firing_change(KEY, indexed(firing=None, firing_reason=None), listed(), NOW, GRACE) is None


def test_pausing_clears_a_stale_overdue() -> None:
    change = firing_change(KEY, indexed(firing="False", firing_reason="Overdue", expected_paused=True,
                                        status_paused=True), listed(paused=True), NOW, GRACE)
    assert change is not None and change.firing is True and "paused" in change.message


# --- next run time -------------------------------------------------------------------------

def test_next_run_time_is_refreshed_from_the_list_entry_only_when_it_moved() -> None:
    assert next_run_patch(indexed(), listed()) is None
    moved = listed(next_action_times=(datetime(2026, 11, 23, 0, 0, tzinfo=UTC),))
    assert next_run_patch(indexed(), moved) == {"nextRunTime": "2026-11-23T00:00:00Z",
                                                "nextRunTimeLocal": "2026-11-23 09:00 JST"}
    assert next_run_patch(indexed(), listed(next_action_times=())) == {"nextRunTime": None,
                                                                        "nextRunTimeLocal": None}


@pytest.mark.parametrize(("resource", "entry"), [
    (indexed(), listed(listed_fingerprint="cccc", next_action_times=(NOW,))),
    (indexed(expected_paused=True, status_paused=True, phase="Paused"),
     listed(paused=True, next_action_times=(NOW,))),
    (indexed(observed_generation=1), listed(next_action_times=(NOW,))),
], ids=["list-behind-our-last-write", "paused", "spec-change-in-flight"])
def test_next_run_time_is_not_written_from_a_lagging_or_paused_entry(resource: IndexedSchedule,
                                                                     entry: ListedSchedule) -> None:
    assert next_run_patch(resource, entry) is None


# --- a whole sweep -------------------------------------------------------------------------

def other(name: str, uid: str = "u", cluster: str = CLUSTER) -> ScheduleIdentity:
    return ScheduleIdentity(cluster, "team-a", name, uid)


def test_an_idle_sweep_plans_nothing() -> None:
    index = {("team-a", f"s{n}"): indexed(uid=f"u{n}") for n in range(50)}
    entries = [listed(other(f"s{n}", f"u{n}")) for n in range(50)]
    plan = plan_sweep(CLUSTER, entries, index, frozenset(), NOW, GRACE)
    assert plan.idle and plan.listed == 50 and not plan.orphans_seen


def test_a_sweep_finds_each_kind_of_divergence() -> None:
    index = {("team-a", "gone"): indexed(uid="g"), ("team-a", "edited"): indexed(uid="e"),
             ("team-a", "paused"): indexed(uid="p"), ("team-a", "late"): indexed(uid="l"),
             ("team-a", "moved"): indexed(uid="m")}
    entries = [listed(other("edited", "e"), listed_fingerprint="zzzz"),
               listed(other("paused", "p"), paused=True),
               listed(other("late", "l"), next_action_times=(NOW - timedelta(hours=1),)),
               listed(other("moved", "m"), next_action_times=(NOW + timedelta(days=1),)),
               listed(other("orphan", "o")), listed(other("foreign", "f", cluster="cluster-b")),
               listed(memo={}, schedule_id="hand-made")]
    plan = plan_sweep(CLUSTER, entries, index, frozenset(), NOW, GRACE)
    assert dict(plan.drift) == {("team-a", "gone"): Drift.MISSING, ("team-a", "edited"): Drift.EDITED,
                                ("team-a", "paused"): Drift.PAUSED}
    assert plan.orphans_seen == {other("orphan", "o").schedule_id} and plan.orphans_due == ()
    assert [key for key, _ in plan.next_runs] == [("team-a", "late"), ("team-a", "moved")]
    assert [(c.key, c.firing) for c in plan.firing] == [(("team-a", "late"), False)]
    assert plan.overdue == 1
    assert plan.ignored == {Ownership.OTHER_CLUSTER: 1, Ownership.UNMANAGED: 1}


def test_an_orphan_is_due_only_when_seen_in_two_sweeps_in_a_row() -> None:
    orphan = listed(other("orphan", "o"))
    first = plan_sweep(CLUSTER, [orphan], {}, frozenset(), NOW, GRACE)
    assert first.orphans_due == ()
    second = plan_sweep(CLUSTER, [orphan], {}, first.orphans_seen, NOW, GRACE)
    assert second.orphans_due == (orphan,)
    claimed = plan_sweep(CLUSTER, [orphan], {("team-a", "orphan"): indexed(uid="o")}, first.orphans_seen,
                         NOW, GRACE)
    assert claimed.orphans_due == () and not claimed.orphans_seen


def test_the_index_entry_reads_what_the_sweep_needs_from_a_body() -> None:
    body = {"metadata": {"uid": "u", "generation": 3, "deletionTimestamp": "2026-11-22T00:00:00Z"},
            "spec": {"paused": True, "timeZone": "Europe/Paris"},
            "status": {"observedGeneration": 3, "phase": "Paused", "nextRunTime": None,
                       "temporal": {"fingerprint": "a.b"},
                       "conditions": [{"type": "Firing", "status": "False", "reason": "Overdue"},
                                      {"type": "Paused", "status": "True", "reason": "UserRequested"}]}}
    assert indexed_from_body(body) == IndexedSchedule(
        uid="u", generation=3, observed_generation=3, phase="Paused", deleting=True, expected_paused=True,
        status_paused=True,
        fingerprint="a.b", next_run_time=None, time_zone="Europe/Paris", firing="False",
        firing_reason="Overdue")
    assert indexed_from_body({"metadata": {"uid": "u"}}) == IndexedSchedule(uid="u")


def test_a_namespace_scoped_operator_never_calls_schedules_of_other_namespaces_orphans() -> None:
    elsewhere = listed(ScheduleIdentity(CLUSTER, "team-b", "x", "u"))
    first = plan_sweep(CLUSTER, [elsewhere], {}, frozenset(), NOW, GRACE, watched=frozenset({"team-a"}))
    second = plan_sweep(CLUSTER, [elsewhere], {}, first.orphans_seen, NOW, GRACE, watched=frozenset({"team-a"}))
    assert not second.orphans_seen and second.orphans_due == ()
    assert second.ignored == {Ownership.UNWATCHED: 1}
