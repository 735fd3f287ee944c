"""When a schedule is over for good, and how many runs ``spec.maxRuns`` leaves.

Pure. A Temporal schedule that can never fire again (its ``endAt`` passed, or its limited
actions are used up) shows no next action time; Temporal deletes it in its own time, about
a week later by default. Sundial shows such a resource as ``Completed`` and from then on
treats a missing Temporal schedule as expected, not as drift (see ``docs/lifecycle.md``).
"""

from __future__ import annotations

from datetime import datetime

from sundial.domain.desired import DesiredSchedule, ListedSchedule, ObservedSchedule
from sundial.domain.written import WrittenSchedule


def remaining_runs_for(desired: DesiredSchedule, current_remaining: int | None) -> int:
    """Temporal's remaining actions to write for ``desired.max_runs``.

    Temporal replaces the whole state on an update, so the count must be carried over: with the
    schedule's current remaining count (already limited), the runs used are ``limit_base -
    current_remaining``; otherwise ``runs_used`` from the status. Raising maxRuns gives the
    difference back; lowering it below the runs used leaves none.
    """
    assert desired.max_runs is not None
    used = desired.runs_used
    if current_remaining is not None and desired.limit_base is not None:
        used = max(0, desired.limit_base - current_remaining)
    return max(0, desired.max_runs - used)


def end_reason(observed: ObservedSchedule | ListedSchedule | WrittenSchedule, now: datetime) -> str | None:
    """Why the Temporal schedule can never fire again, or None while it can.

    Temporal shows no next action time once the window is over (``endAt`` passed) or the limited
    actions are used up; it then deletes the schedule in its own time (about a week later by
    default). A list entry carries no action count, so from one only the window is judged.
    """
    if observed.next_action_times:
        return None
    if not isinstance(observed, ListedSchedule) and observed.limited and observed.remaining_actions <= 0:
        return "all runs of spec.maxRuns are used"
    if observed.end_at is not None and observed.end_at <= now:
        return f"the window ended at {observed.end_at.isoformat()} (spec.endAt)"
    return None
