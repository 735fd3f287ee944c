"""Creates admitted but not yet in kopf's index still count against the quota, for a while."""

from __future__ import annotations

from sundial.controller.admission import PENDING_SECONDS, Admitted


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_admitted_create_counts_until_the_index_shows_it() -> None:
    admitted = Admitted(clock=Clock())
    admitted.add("user:alice", "team-a/one", "2026-12-01T00:00:00+00:00")
    assert admitted.with_index("user:alice", []) == [("2026-12-01T00:00:00+00:00", "team-a/one")]
    indexed = [("2026-12-01T00:00:00Z", "team-a/one")]
    assert admitted.with_index("user:alice", indexed) == indexed  # no double count
    assert admitted.with_index("user:alice", []) == []  # forgotten once the index had it


def test_an_admitted_create_that_never_appears_is_forgotten() -> None:
    clock = Clock()
    admitted = Admitted(clock=clock)
    admitted.add("ns:team-a", "ghost", "2026-12-01T00:00:00+00:00")
    clock.now += PENDING_SECONDS + 1
    assert admitted.with_index("ns:team-a", []) == []


def test_groups_are_apart() -> None:
    admitted = Admitted(clock=Clock())
    admitted.add("user:alice", "team-a/one", "t")
    assert admitted.with_index("user:bob", []) == []
