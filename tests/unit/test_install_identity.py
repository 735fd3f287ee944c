"""Two clusters, one cluster ID (issue 10, item 14): the install ID in the memo tells them apart."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from sundial.domain.desired import DesiredSchedule, ListedSchedule, ObservedSchedule, Recorded, plan
from sundial.domain.drift import Ownership, is_orphan, ownership, plan_sweep
from sundial.domain.identity import INSTALL_ID, ScheduleIdentity, identity_from_memo
from sundial.domain.indexed import IndexedSchedule

CLUSTER = "copied-cluster-id"
OURS = ScheduleIdentity(CLUSTER, "team-a", "news", "uid-1", install_id="install-a")
THEIRS = dataclasses.replace(OURS, uid="uid-2", install_id="install-b")  # the other cluster's "news"
LEGACY = dataclasses.replace(OURS, install_id="")  # written before install IDs existed
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DESIRED = DesiredSchedule(crons=("0 9 * * *",), workflow_type="W", task_queue="q", workflow_id=OURS.schedule_id)


def listed(identity: ScheduleIdentity) -> ListedSchedule:
    return ListedSchedule(schedule_id=identity.schedule_id, memo=identity.memo(), paused=False, note="",
                          workflow_type="W", listed_fingerprint="aaaa")


def observed(identity: ScheduleIdentity) -> ObservedSchedule:
    return ObservedSchedule(schedule_id=identity.schedule_id, memo=identity.memo(), paused=False, note="",
                            workflow_type="W", task_queue="q", fingerprint="aaaa.bbbb")


def test_the_memo_carries_the_install_id_and_reads_it_back() -> None:
    assert OURS.memo()[INSTALL_ID] == "install-a"
    assert INSTALL_ID not in LEGACY.memo()
    back = identity_from_memo(OURS.memo())
    assert back == OURS and back is not None and back.install_id == "install-a"
    assert THEIRS.other_install(OURS) and not LEGACY.other_install(OURS) and not OURS.other_install(OURS)


def test_another_installs_schedule_at_our_id_is_a_conflict_never_a_recreate() -> None:
    decided = plan(OURS, DESIRED, observed(THEIRS), None)
    assert decided.conflict and decided.foreign and not (decided.recreate or decided.update or decided.create)
    assert "install-b" in decided.conflict
    legacy = plan(OURS, DESIRED, observed(LEGACY), Recorded("x", "aaaa.bbbb"))
    assert not legacy.conflict  # schedules written before install IDs existed stay this install's


def test_a_sweep_neither_deletes_nor_repairs_another_installs_schedules() -> None:
    ghost = dataclasses.replace(THEIRS, namespace="gone", name="ghost")
    assert ownership(listed(ghost), CLUSTER, "install-a") is Ownership.OTHER_INSTALL
    assert not is_orphan(observed(ghost), None, CLUSTER, "install-a")
    index = {("team-a", "news"): IndexedSchedule(uid="uid-1", generation=1, observed_generation=1,
                                                 phase="Active", fingerprint="aaaa.bbbb")}
    entries = [listed(ghost), listed(THEIRS)]
    first = plan_sweep(CLUSTER, entries, index, frozenset(), NOW, timedelta(minutes=5), install_id="install-a")
    second = plan_sweep(CLUSTER, entries, index, first.orphans_seen, NOW, timedelta(minutes=5),
                        install_id="install-a")
    assert (second.orphans_due, second.drift) == ((), ())
    assert set(second.foreign) == {ghost.schedule_id, THEIRS.schedule_id}
    # the resource at THEIRS' ID is settled (a resume no longer describes it): a reconcile must report it
    assert second.conflicts == (("team-a", "news"),) and not second.idle
    reported = dataclasses.replace(index[("team-a", "news")], phase="Error")
    assert plan_sweep(CLUSTER, entries, {("team-a", "news"): reported}, frozenset(), NOW, timedelta(minutes=5),
                      install_id="install-a").conflicts == ()  # once reported, not again every sweep
    without = plan_sweep(CLUSTER, entries, index, frozenset({ghost.schedule_id}), NOW, timedelta(minutes=5))
    assert without.orphans_due  # what happened before: the other cluster's schedule looked orphaned
