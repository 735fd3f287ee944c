"""When a schedule is over for good, and the runs spec.maxRuns leaves across updates."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from sundial.domain.completion import end_reason, remaining_runs_for
from sundial.domain.desired import DesiredSchedule, ObservedSchedule, spec_hash

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DESIRED = DesiredSchedule(crons=("0 9 * * *",), workflow_type="W", task_queue="q", workflow_id="id")


def observed(**changes: object) -> ObservedSchedule:
    base = ObservedSchedule(schedule_id="id", memo={}, paused=False, note="", workflow_type="W", task_queue="q",
                            fingerprint="a.b")
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_a_schedule_with_a_next_time_has_not_ended() -> None:
    assert end_reason(observed(next_action_times=(NOW,), end_at=NOW - timedelta(days=1)), NOW) is None


def test_no_next_time_ends_it_only_past_the_window_or_with_no_runs_left() -> None:
    assert end_reason(observed(), NOW) is None  # nothing says it is over
    assert end_reason(observed(end_at=NOW + timedelta(hours=1)), NOW) is None
    assert "spec.endAt" in (end_reason(observed(end_at=NOW - timedelta(seconds=1)), NOW) or "")
    assert "maxRuns" in (end_reason(observed(limited=True, remaining_actions=0), NOW) or "")


def test_remaining_runs_carry_over_an_update_and_raising_max_runs_gives_the_difference() -> None:
    fresh = dataclasses.replace(DESIRED, max_runs=5)
    assert remaining_runs_for(fresh, None) == 5
    raised = dataclasses.replace(DESIRED, max_runs=5, limit_base=3)
    assert remaining_runs_for(raised, 1) == 3  # 2 used of 3; 5 - 2
    lowered = dataclasses.replace(DESIRED, max_runs=1, limit_base=3)
    assert remaining_runs_for(lowered, 1) == 0
    recreated = dataclasses.replace(DESIRED, max_runs=5, runs_used=4, limit_base=5)
    assert remaining_runs_for(recreated, None) == 1


def test_the_spec_hash_of_a_spec_without_max_runs_is_unchanged_by_the_new_fields() -> None:
    assert spec_hash(dataclasses.replace(DESIRED, runs_used=3, limit_base=2)) == spec_hash(DESIRED)
    assert spec_hash(dataclasses.replace(DESIRED, max_runs=2)) != spec_hash(DESIRED)


def test_max_runs_out_of_range_is_refused_naming_the_field_value_and_limit() -> None:
    import pytest

    from sundial.domain.models import ScheduleSpec
    from sundial.errors import SpecInvalid

    for value, limit in ((0, "minimum of 1"), (1_000_001, "maximum of 1000000")):
        with pytest.raises(SpecInvalid) as refused:
            ScheduleSpec.from_body({"schedule": "0 9 * * *", "task": {"query": "q"}, "maxRuns": value})
        assert refused.value.field == "spec.maxRuns"
        assert str(value) in refused.value.message and limit in refused.value.message
