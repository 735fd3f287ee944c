"""Import and adoption, the pure part: Temporal calendars back to cron, what cannot be said, who may adopt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sundial.domain.adoption import (
    ADOPTABLE_BY,
    ForeignSchedule,
    NotExpressible,
    adopted_schedule_id,
    adoption_refusal,
    calendar_cron,
    recreate_window,
    spec_from_foreign,
)
from sundial.domain.cron import parse_cron
from sundial.domain.desired import ScheduleIdentity
from sundial.domain.models import ScheduleSpec
from sundial.domain.schedule_rules import spec_whens

ME = ScheduleIdentity("cluster-a", "team", "report", "uid-1")
# what Temporal shows for "*/5 9-17 * * 1-5" (seen on the dev server)
WORKDAYS = {"second": ((0, 0, 1),), "minute": ((0, 59, 5),), "hour": ((9, 17, 1),), "day_of_month": ((1, 31, 1),),
            "month": ((1, 12, 1),), "year": (), "day_of_week": ((1, 5, 1),)}


def foreign(**extra: object) -> ForeignSchedule:
    fields: dict[str, object] = dict(schedule_id="legacy", memo={}, calendars=(WORKDAYS,), workflow_type="Report",
                                     task_queue="q", args=({"query": "x"},), overlap="BufferOne",
                                     catchup_window=timedelta(days=365), time_zone="Europe/Paris")
    return ForeignSchedule(**{**fields, **extra})  # type: ignore[arg-type]


def test_a_calendar_becomes_the_cron_it_was_compiled_from() -> None:
    assert calendar_cron(WORKDAYS) == ("*/5 9-17 * * 1-5", [])
    hourly = {**WORKDAYS, "minute": ((0, 0, 1),), "hour": ((0, 23, 1),), "day_of_week": ((0, 6, 1),)}
    assert calendar_cron(hourly) == ("0 * * * *", [])
    lists = {**WORKDAYS, "minute": ((15, 0, 1), (45, 0, 1)), "hour": ((2, 20, 6),)}
    assert calendar_cron(lists) == ("15,45 2-20/6 * * 1-5", [])


def test_seconds_and_years_cannot_be_said_in_cron() -> None:
    assert calendar_cron({**WORKDAYS, "second": ((30, 0, 1),)})[1] == [
        "runs at a second other than :00 (cron has minutes only)"]
    assert calendar_cron({**WORKDAYS, "year": ((2027, 2027, 1),)})[1] == ["is limited to certain years"]


def test_the_imported_spec_is_a_valid_schedule_with_what_changes_noted() -> None:
    spec, notes = spec_from_foreign(foreign(run_timeout=timedelta(minutes=5), jitter=timedelta(seconds=30)))
    assert spec == {"schedule": "*/5 9-17 * * 1-5", "timeZone": "Europe/Paris",
                    "workflow": {"type": "Report", "taskQueue": "q", "args": [{"query": "x"}]},
                    "policy": {"overlap": "BufferOne", "catchupWindow": "8760h"}, "timeoutSeconds": 300,
                    "jitter": "30s"}
    ScheduleSpec.from_body(spec)
    parse_cron(spec["schedule"])
    assert notes[0] == "new runs get workflow IDs legacy-<time> (Sundial's rule); earlier runs keep theirs"
    assert "run envelope" in notes[1] and "workflow type Report and task queue q" in notes[2]
    assert "no run timeout" in spec_from_foreign(foreign())[1][0]


def test_what_a_schedule_cannot_express_is_refused_with_every_reason() -> None:
    with pytest.raises(NotExpressible) as refused:
        spec_from_foreign(foreign(calendars=(WORKDAYS, {**WORKDAYS, "year": ((2027, 2027, 1),)}), skips=2, args=None,
                                  extras=("a workflow memo",)))
    assert refused.value.reasons == [
        "its calendar 2 is limited to certain years",
        "it has 2 exclusion calendar(s) (skip)",
        "its workflow arguments are in an encoding Sundial cannot read (not JSON)",
        "its action sets a workflow memo"]
    with pytest.raises(NotExpressible, match="its action is ScheduleActionSomething, not starting a workflow"):
        spec_from_foreign(foreign(action_kind="ScheduleActionSomething"))
    eleven = tuple((timedelta(hours=n + 2), timedelta(0)) for n in range(11))
    with pytest.raises(NotExpressible, match=r"it has 11 calendars and intervals \(spec.schedules takes at most 10\)"):
        spec_from_foreign(foreign(calendars=(), intervals=eleven))


def test_several_calendars_and_intervals_become_spec_schedules() -> None:
    weekend = {**WORKDAYS, "hour": ((12, 12, 1),), "day_of_week": ((0, 0, 1), (6, 6, 1))}
    spec, _ = spec_from_foreign(foreign(calendars=(WORKDAYS, weekend),
                                        intervals=((timedelta(minutes=90), timedelta(minutes=15)),)))
    assert "schedule" not in spec
    assert spec["schedules"] == ["*/5 9-17 * * 1-5", "*/5 12 * * 0,6", "@every 1h30m/15m"]
    assert [type(when).__name__ for when in spec_whens(ScheduleSpec.from_body(spec))] == [
        "CronExpression", "CronExpression", "Interval"]
    alone, _ = spec_from_foreign(foreign(calendars=(), intervals=((timedelta(days=2), timedelta(0)),)))
    assert alone["schedule"] == "@every 48h" and "schedules" not in alone


def test_only_a_schedule_no_other_owner_claims_may_be_adopted() -> None:
    assert adoption_refusal("legacy", {"team": "data"}, ME) is None
    other = ScheduleIdentity("cluster-a", "team", "other", "uid-2")
    assert "managed by Sundial for team/other" in str(adoption_refusal("legacy", other.memo(), ME))
    assert adoption_refusal("legacy", ME.memo(), ME) is None  # already ours: nothing to refuse
    assert "another owner (owner=payments)" in str(adoption_refusal("legacy", {"owner": "payments"}, ME))
    assert "another owner" in str(adoption_refusal("legacy", {"example.com/managed-by": "argo"}, ME))
    assert "Sundial schedule ID of another resource" in str(adoption_refusal(other.schedule_id, {}, ME))
    assert adoption_refusal("legacy", {ADOPTABLE_BY: "ops, team"}, ME) is None
    assert "does not list namespace team" in str(adoption_refusal("legacy", {ADOPTABLE_BY: "ops"}, ME))


def test_the_recorded_id_wins_over_the_annotation_so_a_changed_annotation_never_makes_a_second_schedule() -> None:
    annotated = {"metadata": {"annotations": {"sundial.dev/adopt": "legacy"}}}
    assert adopted_schedule_id(annotated, ME.schedule_id) == "legacy"
    assert adopted_schedule_id({**annotated, "status": {"temporal": {"scheduleId": "first"}}}, ME.schedule_id) == (
        "first")
    own = {**annotated, "status": {"temporal": {"scheduleId": ME.schedule_id}}}
    assert adopted_schedule_id(own, ME.schedule_id) is None  # created its own already: no adoption
    assert adopted_schedule_id({"metadata": {}}, ME.schedule_id) is None


def test_delete_and_recreate_waits_for_a_gap_between_fire_times() -> None:
    now = datetime(2026, 12, 1, 12, 0, 30, tzinfo=UTC)
    margin = timedelta(seconds=15)
    assert recreate_window((now + timedelta(seconds=30),), now, margin) is None
    assert recreate_window((now + timedelta(seconds=5),), now, margin) == timedelta(seconds=20)
    assert recreate_window((now - timedelta(seconds=5), now + timedelta(minutes=1)), now, margin) == timedelta(
        seconds=10)  # a run just fired: let it start first
    assert recreate_window((), now, margin) is None
