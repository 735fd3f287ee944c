"""Which schedules refused by the namespace quota the quota admits now, from the index alone."""

from __future__ import annotations

from sundial.domain.indexed import IndexedSchedule
from sundial.domain.readmission import readmissions
from sundial.domain.rules import Limits

ACTIVE = IndexedSchedule(uid="u", phase="Active")
WAITING = IndexedSchedule(uid="u", phase="Invalid", refusal="ScheduleLimitReached")
STAMPS = {"a": "2026-12-01T10:00:00Z", "b": "2026-12-01T10:00:01Z", "c": "2026-12-01T10:00:02Z",
          "d": "2026-12-01T10:00:03Z"}


def namespace_of(*names: str) -> dict[str, list[tuple[str, str]]]:
    return {"ns": [(STAMPS[name], name) for name in names]}


def test_nothing_is_admitted_while_the_namespace_is_full() -> None:
    index = {("ns", "a"): ACTIVE, ("ns", "b"): ACTIVE, ("ns", "c"): WAITING}
    assert readmissions(index, namespace_of("a", "b", "c"), Limits(max_per_namespace=2)) == []


def test_a_deleted_schedule_frees_its_place_for_the_oldest_waiting_one() -> None:
    index = {("ns", "b"): ACTIVE, ("ns", "c"): WAITING, ("ns", "d"): WAITING}
    assert readmissions(index, namespace_of("b", "c", "d"), Limits(max_per_namespace=2)) == [("ns", "c")]


def test_a_raised_quota_admits_the_waiting_ones_in_quota_order() -> None:
    index = {("ns", "d"): WAITING, ("ns", "a"): ACTIVE, ("ns", "c"): WAITING, ("ns", "b"): WAITING}
    assert readmissions(index, namespace_of("a", "b", "c", "d"), Limits(max_per_namespace=10)) == [
        ("ns", "b"), ("ns", "c"), ("ns", "d")]


def test_other_refusals_and_resources_going_away_are_not_readmitted() -> None:
    index = {("ns", "a"): IndexedSchedule(uid="u", phase="Invalid", refusal="IntervalTooShort"),
             ("ns", "b"): IndexedSchedule(uid="u", phase="Invalid", refusal="ScheduleLimitReached", deleting=True)}
    assert readmissions(index, namespace_of("a", "b"), Limits(max_per_namespace=10)) == []


def test_a_schedule_over_its_creators_quota_waits_for_a_place_there_too() -> None:
    # the namespace has room, but alice already has her two schedules (in other namespaces):
    # re-admitting would only be refused again, at the cost of a read and a reconcile every sweep
    alice = IndexedSchedule(uid="u", phase="Active", creator="alice")
    waiting = IndexedSchedule(uid="u", phase="Invalid", refusal="ScheduleLimitReached", creator="alice")
    index = {("x", "a"): alice, ("y", "b"): alice, ("ns", "c"): waiting}
    by_namespace = {"x": [(STAMPS["a"], "a")], "y": [(STAMPS["b"], "b")], "ns": [(STAMPS["c"], "c")]}
    assert readmissions(index, by_namespace, Limits(max_per_namespace=10, max_per_user=2)) == []
    del index[("y", "b")], by_namespace["y"]
    assert readmissions(index, by_namespace, Limits(max_per_namespace=10, max_per_user=2)) == [("ns", "c")]
