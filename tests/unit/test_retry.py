"""Which resources wait for a retry, and the backoff between attempts."""

from __future__ import annotations

from sundial.domain.indexed import IndexedSchedule, indexed_from_body
from sundial.domain.retry import RetryBook, backoff_seconds, needs_retry


def test_error_and_a_waiting_trigger_need_a_retry_and_nothing_else_does() -> None:
    assert needs_retry(IndexedSchedule(uid="u", phase="Error"))
    assert not needs_retry(IndexedSchedule(uid="u", phase="Error", deleting=True))
    assert not needs_retry(IndexedSchedule(uid="u", phase="Active"))
    waiting = {"metadata": {"uid": "u", "annotations": {"sundial.dev/trigger-requested": "t2"}},
               "status": {"phase": "Active", "requests": {"trigger": "t1",
                                                           "triggerResult": "waiting: Temporal unavailable"}}}
    assert needs_retry(indexed_from_body(waiting))
    acked = {**waiting, "status": {"phase": "Active", "requests": {"trigger": "t2", "triggerResult": "started"}}}
    assert not needs_retry(indexed_from_body(acked))
    fresh = {**waiting, "status": {"phase": "Active", "requests": {"trigger": "t1", "triggerResult": "started"}}}
    assert not needs_retry(indexed_from_body(fresh))  # the event handler has not tried it yet


def test_attempts_back_off_and_a_resource_that_recovered_starts_over() -> None:
    book, key = RetryBook(), ("ns", "a")
    assert book.pick([key], 0.0) == [key]
    assert book.pick([key], 0.5) == []  # 1 s after the first attempt
    assert book.pick([key], 1.0) == [key]
    assert book.pick([key], 2.9) == []  # 2 s after the second
    assert book.pick([key], 3.0) == [key]
    assert book.pick([], 4.0) == []  # recovered: forgotten
    assert book.pick([key], 4.0) == [key]
    assert [backoff_seconds(n) for n in (0, 1, 5, 6, 20)] == [1.0, 2.0, 32.0, 60.0, 60.0]
