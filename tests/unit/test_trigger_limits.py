"""A trigger never bypasses an automatic pause nor the minimum interval (issue 10, item 5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sundial.controller.annotation_requests import trigger_refusal
from sundial.domain.status import Status

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_trigger_is_refused_while_an_automatic_pause_holds() -> None:
    status: Status = {"accounting": {"autoPause": {"reason": "BudgetExhausted", "message": "spent $5 of $5"}}}
    assert trigger_refusal(status, NOW, 60) == (
        "refused: the schedule is paused automatically (BudgetExhausted); `sundial resume` lifts the pause")


def test_triggers_are_limited_to_one_per_interval() -> None:
    recent: Status = {"requests": {"lastTriggerAt": stamp(NOW - timedelta(minutes=10))}}
    assert trigger_refusal(recent, NOW, 60) == (
        "refused: a trigger started a run at 2026-06-01T11:50:00Z; at most one per 60 min "
        "(SUNDIAL_TRIGGER_MIN_INTERVAL_MINS)")
    assert trigger_refusal({"requests": {"lastTriggerAt": stamp(NOW - timedelta(minutes=60))}}, NOW, 60) is None
    assert trigger_refusal(recent, NOW, 0) is None  # 0: no limit
    assert trigger_refusal({}, NOW, 60) is None
