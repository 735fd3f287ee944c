"""The reconcile's small pure helpers: merge-patch view, backoff, recorded hashes, effective pause."""

from __future__ import annotations

from typing import Any

from sundial.controller.reconcile import backoff_seconds, effective_pause, recorded_from_status
from sundial.domain import conditions as cond
from sundial.domain.desired import Recorded
from sundial.domain.models import ScheduleSpec
from sundial.domain.patches import merged
from sundial.domain.status import Status

SPEC = {"schedule": "0 9 * * *", "task": {"query": "q"}}


def test_merge_patch_view_merges_nested_objects_and_drops_nulls() -> None:
    status: dict[str, Any] = {"runs": {"total": 5, "consecutiveFailures": 3},
                              "accounting": {"autoPause": {"reason": "x"}, "countedIds": ["a"]}}
    patch = {"runs": {"consecutiveFailures": 0}, "accounting": {"autoPause": None}, "requests": {"resume": "t"}}
    assert merged(status, patch) == {
        "runs": {"total": 5, "consecutiveFailures": 0},
        "accounting": {"countedIds": ["a"]},
        "requests": {"resume": "t"},
    }
    assert status["runs"]["consecutiveFailures"] == 3  # the input is not changed


def test_backoff_doubles_up_to_a_minute() -> None:
    assert [backoff_seconds(n) for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_recorded_hashes_need_both_values() -> None:
    assert recorded_from_status({}) is None
    assert recorded_from_status({"temporal": {"specHash": "a"}}) is None
    assert recorded_from_status({"temporal": {"specHash": "a", "fingerprint": "b.c"}}) == Recorded("a", "b.c")


def test_spec_pause_wins_over_an_automatic_pause() -> None:
    status: Status = {"accounting": {"autoPause": {"reason": "BudgetExhausted", "message": "spent $5 of $5"}}}
    paused_spec = ScheduleSpec.from_body({**SPEC, "paused": True, "pauseReason": "freeze"})
    assert effective_pause(paused_spec, status) is not None
    assert effective_pause(paused_spec, status).reason == "UserRequested"  # type: ignore[union-attr]
    auto = effective_pause(ScheduleSpec.from_body(SPEC), status)
    assert auto is not None and (auto.reason, auto.message) == ("BudgetExhausted", "spent $5 of $5")
    assert effective_pause(ScheduleSpec.from_body(SPEC), {}) is None


def test_a_first_sync_says_firing_and_later_syncs_leave_the_watchdogs_verdict() -> None:
    from datetime import UTC, datetime

    from sundial.domain import status as st

    now = datetime(2026, 11, 22, tzinfo=UTC)
    first = st.synced_status({}, 1, {}, None, "UTC", None, now, wrote_to_temporal=True)
    firing = [c for c in first["conditions"] if c["type"] == "Firing"]
    assert [(c["status"], c["reason"]) for c in firing] == [("True", "OnTime")]
    late = st.with_condition(first["conditions"], "Firing", False, "Overdue", "late", 1, now)
    overdue: st.Status = {**first, "conditions": late}
    again = st.synced_status(overdue, 2, {}, None, "UTC", None, now, wrote_to_temporal=True)
    assert [(c["status"], c["reason"]) for c in again["conditions"] if c["type"] == "Firing"] == [("False", "Overdue")]


def test_merge_patch_view_follows_rfc_7386_where_the_target_is_not_an_object() -> None:
    assert merged({"a": 1}, {"a": {"b": 2, "c": None}}) == {"a": {"b": 2}}


def test_a_rebased_write_reapplies_only_the_conditions_this_writer_changed() -> None:
    from datetime import UTC, datetime

    from sundial.domain import status as st

    t0, t1 = datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 1, 1, tzinfo=UTC)
    base = st.with_condition([], cond.READY, True, cond.SYNCED, "", 1, t0)
    base = st.with_condition(base, cond.FIRING, True, cond.ON_TIME, "", 1, t0)
    previous: st.Status = {"phase": "Active", "conditions": base}
    theirs: st.Status = {**previous,
                         "conditions": st.with_condition(base, cond.FIRING, False, cond.OVERDUE, "late", 1, t1)}
    ours: st.Status = {"phase": "Error",
                       "conditions": st.with_condition(base, cond.READY, False, "TemporalUnavailable", "x", 1, t1)}
    rebased = st.rebase(previous, ours, theirs)
    by_type = {c["type"]: (c["status"], c["reason"]) for c in rebased["conditions"]}
    assert by_type == {"Ready": ("False", "TemporalUnavailable"), "Firing": ("False", "Overdue")}
    assert rebased["phase"] == "Error"
    assert st.rebase(previous, previous, theirs) == {}  # nothing of ours to write
