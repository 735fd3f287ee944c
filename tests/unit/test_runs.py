"""Run accounting as a specification: the fold, its watermark and auto-pause decisions."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sundial.commands.runs import (
    UsageError,
    duration_text,
    newest_first,
    page_bounds,
    parse_query,
    parse_when,
    render_table,
)
from sundial.controller.accounting import Tracked, index_reader, pause_pending, tracked_from_body
from sundial.domain.contract import TaskResult
from sundial.domain.patches import changed_leaves
from sundial.domain.run_records import ClosedRun, RunInfo, RunOutcome, closed_run, run_record
from sundial.domain.runs import (
    SAFETY_LAG,
    HistoryLimits,
    Ledger,
    auto_pause_decision,
    bounded_history,
    fold,
    with_running,
)

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
SID = "sundial.0123456789ab.team-a.digest"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def run(n: int, status: str = "COMPLETED", cost: float | None = 0.0, closed: float | None = None,
        final: bool = True, started: float | None = None, error: str | None = None) -> ClosedRun:
    """Run ``n`` closes at T0 + 10n seconds (unless ``closed`` says otherwise), after 5 s."""
    closed_s = 10.0 * n if closed is None else closed
    info = RunInfo(SID, f"{SID}-{n}", f"run-{n}", status, at(closed_s - 5 if started is None else started),
                   at(closed_s), at(closed_s - 5))
    return ClosedRun(info, status, final=final, cost_usd=cost, total_tokens=100, model="gpt-4o",
                     provider="openai", error=error if status != "COMPLETED" else None)


def sweep(ledger: Ledger, runs: list[ClosedRun], now: float, limits: HistoryLimits | None = None) -> Ledger:
    """One sweep: the runs visible then, listed from the ledger's watermark (creation at T0)."""
    start = ledger.closed_through or T0
    return fold(ledger, [r for r in runs if r.closed_at >= start], now=at(now), window_start=start,
                limits=limits or HistoryLimits(), not_before=T0)


LONG_AFTER = 10_000.0  # a sweep this late sees every run below the watermark


# --- the acceptance story ------------------------------------------------------------------


def test_five_runs_success_success_failure_success_failure_are_counted_as_three_and_two() -> None:
    runs = [run(1, cost=0.10), run(2, cost=0.20), run(3, "FAILED", cost=0.05, error="boom"),
            run(4, cost=0.40), run(5, "FAILED", cost=0.01, error="bang")]
    ledger = sweep(Ledger(), runs, now=60)
    assert (ledger.total, ledger.succeeded, ledger.failed) == (5, 3, 2)
    assert ledger.total_usd == pytest.approx(0.76)
    assert ledger.consecutive_failures == 1
    assert ledger.last_successful_time == at(40)
    assert ledger.last_run_time == at(45)
    assert ledger.last_run_usd == 0.01
    assert [r["runId"] for r in ledger.recent_runs] == ["run-5", "run-4", "run-3", "run-2", "run-1"]


def test_recent_runs_keep_the_newest_within_each_limit_newest_first() -> None:
    runs = [run(1), run(2, "FAILED"), run(3), run(4, "TIMED_OUT"), run(5), run(6, "FAILED")]
    ledger = sweep(Ledger(), runs, now=100, limits=HistoryLimits(successful=2, failed=1))
    assert [(r["runId"], r["status"]) for r in ledger.recent_runs] == [
        ("run-6", "FAILED"), ("run-5", "COMPLETED"), ("run-3", "COMPLETED")]


def test_recent_runs_limits_of_zero_keep_nothing() -> None:
    ledger = sweep(Ledger(), [run(1), run(2, "FAILED")], now=30, limits=HistoryLimits(0, 0))
    assert ledger.recent_runs == () and ledger.total == 2


@pytest.mark.parametrize("status", ["FAILED", "TIMED_OUT", "TERMINATED", "CANCELED"])
def test_every_closed_status_but_completed_counts_as_a_failure(status: str) -> None:
    ledger = sweep(Ledger(), [run(1), run(2, status)], now=30)
    assert (ledger.succeeded, ledger.failed, ledger.consecutive_failures) == (1, 1, 1)


def test_a_success_resets_consecutive_failures_in_close_order_not_list_order() -> None:
    runs = [run(3), run(1, "FAILED"), run(2, "FAILED")]  # listed in no particular order
    assert sweep(Ledger(), runs, now=40).consecutive_failures == 0
    runs = [run(3, "FAILED"), run(1, "FAILED"), run(2)]
    assert sweep(Ledger(), runs, now=40).consecutive_failures == 1


def test_a_resumed_streak_continues_from_the_status_value() -> None:
    ledger = Ledger(consecutive_failures=0, closed_through=at(0))  # `sundial resume` reset it
    assert sweep(ledger, [run(1, "FAILED"), run(2, "FAILED")], now=30).consecutive_failures == 2


def test_a_retried_attempt_adds_its_cost_but_is_not_a_run() -> None:
    attempt = run(1, "FAILED", cost=0.30, final=False)
    last = run(2, "COMPLETED", cost=0.20)
    ledger = sweep(Ledger(), [attempt, last], now=30)
    assert (ledger.total, ledger.succeeded, ledger.failed) == (1, 1, 0)
    assert ledger.total_usd == pytest.approx(0.50)
    assert [r["runId"] for r in ledger.recent_runs] == ["run-2"]


def test_a_run_with_unknown_cost_counts_with_zero_cost() -> None:
    ledger = sweep(Ledger(), [run(1, "TIMED_OUT", cost=None)], now=30)
    assert (ledger.failed, ledger.total_usd) == (1, 0.0)
    assert "costUSD" not in ledger.recent_runs[0]


# --- exactly once: watermark and counted IDs -------------------------------------------------


def test_folding_the_same_runs_twice_counts_them_once() -> None:
    runs = [run(1, cost=0.5), run(2, "FAILED", cost=0.25)]
    once = sweep(Ledger(), runs, now=25)
    twice = sweep(once, runs, now=26)
    assert twice.total == once.total == 2 and twice.total_usd == once.total_usd == 0.75


def test_the_watermark_trails_now_by_the_safety_lag_and_never_moves_back() -> None:
    ledger = sweep(Ledger(), [run(1)], now=600.7)
    assert ledger.closed_through == at(600) - SAFETY_LAG
    earlier = fold(ledger, [], now=at(300), window_start=ledger.closed_through or T0, not_before=T0)
    assert earlier.closed_through == ledger.closed_through


def test_counted_ids_keep_only_runs_at_or_after_the_watermark() -> None:
    runs = [run(1), run(20), run(30)]  # close at 10 s, 200 s, 300 s
    ledger = sweep(Ledger(), runs, now=200 + SAFETY_LAG.total_seconds())
    assert ledger.closed_through == at(200)
    assert ledger.counted_ids == {"run-20", "run-30"}


def test_a_run_closed_before_the_watermark_is_taken_as_counted() -> None:
    ledger = Ledger(closed_through=at(100))
    assert sweep(ledger, [run(5, closed=99.5)], now=150).total == 0


def test_a_crash_before_the_status_patch_only_means_reading_again() -> None:
    stored = sweep(Ledger(), [run(1)], now=20)
    runs = [run(1), run(2, cost=1.0), run(3, "FAILED", cost=2.0)]
    lost = sweep(stored, runs, now=40)  # computed, never written: the operator died
    del lost
    after_restart = sweep(stored, runs, now=90)
    assert (after_restart.total, after_restart.failed, after_restart.total_usd) == (3, 1, 3.0)


def test_runs_deleted_by_retention_stay_counted() -> None:
    ledger = sweep(Ledger(), [run(1, cost=1.0), run(2, cost=1.0)], now=30)
    later = sweep(ledger, [], now=LONG_AFTER)  # visibility forgot them
    assert (later.total, later.total_usd) == (2, 2.0)


def test_runs_started_before_the_resource_existed_belong_to_an_earlier_one() -> None:
    old = run(1, started=-30)  # a run of a deleted resource with the same name, closing after re-creation
    assert sweep(Ledger(), [old, run(2)], now=30).total == 1


def test_a_window_that_starts_after_the_new_watermark_is_a_caller_bug() -> None:
    with pytest.raises(ValueError, match="watermark"):
        fold(Ledger(closed_through=at(0)), [], now=at(60), window_start=at(50))


def test_running_runs_are_a_gauge_and_move_last_run_time() -> None:
    ledger = sweep(Ledger(), [run(1)], now=20)
    open_run = RunInfo(SID, f"{SID}-9", "run-9", "RUNNING", at(90))
    assert with_running(ledger, [open_run]).running == 1
    assert with_running(ledger, [open_run]).last_run_time == at(90)
    assert with_running(with_running(ledger, [open_run]), []).running == 0


# --- hypothesis: batches, restarts and visibility delay ----------------------------------------


@dataclass(frozen=True)
class Story:
    runs: list[ClosedRun]
    delays: list[float]  # per run: seconds until visibility shows it (< the safety lag)
    sweeps: list[float]  # sweep times
    crashes: list[bool]  # per sweep: the fold is computed but never written


@st.composite
def stories(draw: st.DrawFn, max_delay: float = SAFETY_LAG.total_seconds() - 1) -> Story:
    n = draw(st.integers(0, 25))
    closes = sorted(draw(st.lists(st.floats(6, 1000), min_size=n, max_size=n, unique=True)))  # after T0
    statuses = st.sampled_from(["COMPLETED", "COMPLETED", "FAILED", "TIMED_OUT"])
    runs = [run(i, status=draw(statuses), cost=draw(st.integers(0, 10**6)) / 10**4, closed=close,
                final=draw(st.booleans() | st.just(True)))
            for i, close in enumerate(closes)]
    delays = draw(st.lists(st.floats(0, max_delay), min_size=n, max_size=n))
    sweeps = sorted(draw(st.lists(st.floats(0, 1300), max_size=12)))
    crashes = draw(st.lists(st.booleans(), min_size=len(sweeps), max_size=len(sweeps)))
    return Story(runs, delays, sweeps, crashes)


def replay(story: Story) -> Ledger:
    stored = Ledger()
    for now, crash in zip([*story.sweeps, LONG_AFTER], [*story.crashes, False], strict=True):
        visible = [r for r, delay in zip(story.runs, story.delays, strict=True)
                   if (r.closed_at - T0).total_seconds() + delay <= now]
        computed = sweep(stored, visible, now)
        if not crash:
            stored = computed
    return stored


@given(stories())
@settings(max_examples=150, deadline=None)
def test_any_sweeps_crashes_and_visibility_delay_count_each_run_exactly_once(story: Story) -> None:
    ledger = replay(story)
    finals = [r for r in story.runs if r.final]
    assert ledger.total == len(finals)
    assert ledger.succeeded == sum(r.succeeded for r in finals)
    assert ledger.failed == sum(not r.succeeded for r in finals)
    assert ledger.cost_micros == sum(round((r.cost_usd or 0) * 10**6) for r in story.runs)


@given(stories(max_delay=0))
@settings(max_examples=100, deadline=None)
def test_without_visibility_delay_consecutive_failures_follow_close_order(story: Story) -> None:
    streak = 0
    for r in story.runs:
        if r.final:
            streak = 0 if r.succeeded else streak + 1
    assert replay(story).consecutive_failures == streak


@given(stories(max_delay=0), st.integers(0, 25))
@settings(max_examples=100, deadline=None)
def test_two_batches_split_anywhere_give_the_counters_of_one(story: Story, split: int) -> None:
    cut = min(split, len(story.runs))
    first_now = (story.runs[cut].closed_at - T0).total_seconds() if cut < len(story.runs) else LONG_AFTER
    in_two = sweep(sweep(Ledger(), story.runs[:cut], first_now - 0.001), story.runs, LONG_AFTER)
    in_one = sweep(Ledger(), story.runs, LONG_AFTER)
    fields = ("total", "succeeded", "failed", "consecutive_failures", "cost_micros", "last_successful_time")
    assert {f: getattr(in_two, f) for f in fields} == {f: getattr(in_one, f) for f in fields}


# --- status round trip ---------------------------------------------------------------------


def test_the_status_form_reads_back_to_the_same_ledger_so_idle_sweeps_write_nothing() -> None:
    ledger = with_running(sweep(Ledger(), [run(1, cost=0.1), run(2, "FAILED", cost=0.2, error="x")], now=30),
                          [RunInfo(SID, "w", "run-9", "RUNNING", at(40))])
    again = Ledger.from_status(ledger.to_status())
    assert again == ledger
    assert again.to_status() == ledger.to_status()
    assert not sweep(again, [run(1), run(2, "FAILED")], now=31).differs_from(again)


def test_a_new_run_or_a_changed_gauge_is_a_change_and_a_moved_watermark_is_not() -> None:
    ledger = sweep(Ledger(), [run(1)], now=20)
    assert sweep(ledger, [run(1), run(2)], now=30).differs_from(ledger)
    assert with_running(ledger, [RunInfo(SID, "w", "r", "RUNNING", at(25))]).differs_from(ledger)
    assert not sweep(ledger, [], now=LONG_AFTER).differs_from(ledger)


def test_status_fields_use_the_spec_names() -> None:
    status = sweep(Ledger(), [run(1, cost=0.45)], now=20).to_status()
    assert status["runs"] == {"total": 1, "succeeded": 1, "failed": 0, "running": 0, "consecutiveFailures": 0}
    assert status["cost"] == {"totalUSD": 0.45, "lastRunUSD": 0.45}
    assert status["lastSuccessfulTime"] == "2026-11-21T09:00:10Z"
    assert set(status["accounting"] or ()) == {"closedThrough", "countedIds"}
    assert status["recentRuns"][0] == {
        "workflowId": f"{SID}-1", "runId": "run-1", "status": "COMPLETED",
        "scheduledTime": "2026-11-21T09:00:05Z",
        "startedAt": "2026-11-21T09:00:05Z", "closedAt": "2026-11-21T09:00:10Z", "durationMs": 5000,
        "costUSD": 0.45, "totalTokens": 100, "model": "gpt-4o", "provider": "openai"}


def test_bounded_history_drops_duplicates_of_a_run() -> None:
    record = run_record(run(1))
    assert len(bounded_history([record, record.copy()], HistoryLimits())) == 1


# --- outcomes from close events ------------------------------------------------------------

INFO = RunInfo(SID, f"{SID}-x", "run-x", "FAILED", at(0), at(10))


def test_a_completed_outcome_carries_cost_tokens_model_and_no_error() -> None:
    outcome = RunOutcome("COMPLETED", TaskResult("completed", "ok", None, "gpt-4o", "openai", 1200, 0.25))
    joined = closed_run(INFO, outcome)
    assert (joined.status, joined.final) == ("COMPLETED", True)
    assert (joined.cost_usd, joined.total_tokens) == (0.25, 1200)
    assert (joined.model, joined.provider, joined.error) == ("gpt-4o", "openai", None)


def test_a_failed_outcome_keeps_the_cost_spent_and_the_error() -> None:
    outcome = RunOutcome("FAILED", TaskResult("failed", None, "agent broke", "m", "p", 10, 0.05),
                         failure_type="AgentFailed", error="agent broke")
    joined = closed_run(INFO, outcome)
    assert (joined.status, joined.final) == ("FAILED", True)
    assert (joined.cost_usd, joined.error) == (0.05, "agent broke")


def test_a_retried_attempt_and_a_continue_as_new_are_not_final() -> None:
    retried = RunOutcome("FAILED", TaskResult("failed", total_cost_usd=0.3), retried_in_run_id="r2")
    assert not closed_run(INFO, retried).final
    assert not closed_run(INFO, RunOutcome("CONTINUED_AS_NEW", None)).final


def test_a_run_whose_history_is_gone_counts_with_its_listed_status_and_unknown_cost() -> None:
    joined = closed_run(INFO, None)
    assert (joined.status, joined.final, joined.cost_usd) == ("FAILED", True, None)


def test_a_run_record_of_an_open_run_has_no_close_or_duration() -> None:
    record = run_record(RunInfo(SID, "w", "r", "RUNNING", at(0)))
    assert record["status"] == "RUNNING" and record["closedAt"] is None and record["durationMs"] is None


# --- auto-pause decisions ------------------------------------------------------------------

NOW = at(3600)


@pytest.mark.parametrize(("streak", "limit", "total_usd", "budget", "reason"), [
    (2, 3, 0.0, None, None),
    (3, 3, 0.0, None, "ConsecutiveFailures"),
    (7, 3, 0.0, None, "ConsecutiveFailures"),
    (50, 0, 0.0, None, None),  # 0 means never
    (0, 3, 9.99, 10.0, None),
    (0, 3, 10.0, 10.0, "BudgetExhausted"),  # reaching the cap is enough
    (0, 3, 0.0, 0.0, "BudgetExhausted"),
    (3, 3, 12.0, 10.0, "ConsecutiveFailures"),  # both: failures are named first
])
def test_auto_pause_decision(streak: int, limit: int, total_usd: float, budget: float | None,
                             reason: str | None) -> None:
    ledger = Ledger(consecutive_failures=streak, cost_micros=round(total_usd * 10**6))
    decision = auto_pause_decision(ledger, limit, budget, NOW, generation=4)
    assert (decision or {}).get("reason") == reason
    if decision:
        assert decision["since"] == "2026-11-21T10:00:00Z" and decision["generation"] == 4
        assert decision["message"]


def test_no_new_decision_while_an_automatic_pause_is_in_force() -> None:
    ledger = Ledger(consecutive_failures=9, auto_pause={"reason": "BudgetExhausted"})
    assert auto_pause_decision(ledger, 3, None, NOW) is None


def test_the_failure_message_names_the_limit_and_the_last_error() -> None:
    runs = [run(1, "FAILED", error="e1"), run(2, "FAILED", error="e2"), run(3, "FAILED", error="e3")]
    ledger = sweep(Ledger(), runs, now=50)
    decision = auto_pause_decision(ledger, 3, None, NOW)
    assert decision is not None
    assert decision["message"] == ("3 failed runs in a row (policy.maxConsecutiveFailures is 3); "
                                   "last error: e3")


# --- `sundial runs`: arguments, paging, output ----------------------------------------------


def cli_args(**given: str) -> argparse.Namespace:
    defaults = {"status": None, "since": None, "until": None, "page": "1", "page_size": "20", "output": "table"}
    return argparse.Namespace(**{**defaults, **given})


@pytest.mark.parametrize(("text", "expected"), [
    ("30m", NOW - timedelta(minutes=30)),
    ("3h", NOW - timedelta(hours=3)),
    ("7d", NOW - timedelta(days=7)),
    ("2w", NOW - timedelta(weeks=2)),
    ("2026-11-20T09:00:00Z", datetime(2026, 11, 20, 9, tzinfo=UTC)),
    ("2026-11-20T18:00:00+09:00", datetime(2026, 11, 20, 9, tzinfo=UTC)),
    ("2026-11-20", datetime(2026, 11, 20, tzinfo=UTC)),
])
def test_times_are_rfc3339_or_relative_to_now(text: str, expected: datetime) -> None:
    assert parse_when(text, NOW, "--since") == expected


@pytest.mark.parametrize(("given", "message"), [
    ({"since": "yesterday"}, "--since 'yesterday' is neither RFC 3339"),
    ({"until": "7 days"}, "--until '7 days' is neither RFC 3339"),
    ({"since": "1h", "until": "2h"}, "is not before --until"),
    ({"status": "broken"}, "--status 'broken' is not one of running|completed|failed|timed_out"),
    ({"page": "0"}, "--page '0' must be a whole number at least 1"),
    ({"page": "two"}, "--page 'two' must be a whole number"),
    ({"page_size": "101"}, "--page-size '101' must be a whole number from 1 to 100"),
    ({"output": "yaml"}, "-o 'yaml' must be table or json"),
])
def test_bad_arguments_are_refused_in_one_line(given: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)) as refused:
        parse_query(cli_args(**given), NOW)
    assert "\n" not in str(refused.value)


def test_status_names_are_case_insensitive() -> None:
    assert parse_query(cli_args(status="TIMED_OUT"), NOW).status == "timed_out"


@pytest.mark.parametrize(("count", "page", "size", "bounds"), [
    (0, 1, 20, (0, 0, 1)),
    (57, 1, 20, (0, 20, 3)),
    (57, 3, 20, (40, 57, 3)),
    (60, 3, 20, (40, 60, 3)),
    (1, 1, 100, (0, 1, 1)),
])
def test_pages_are_one_based_slices_of_the_selection(count: int, page: int, size: int,
                                                     bounds: tuple[int, int, int]) -> None:
    assert page_bounds(count, page, size) == bounds


def test_a_page_past_the_last_one_is_refused() -> None:
    with pytest.raises(UsageError, match=r"--page 4 is past the last page \(3: 57 runs, 20 per page\)"):
        page_bounds(57, 4, 20)


def test_runs_are_listed_newest_start_first_once_each() -> None:
    a, b, c = (RunInfo(SID, f"w{i}", f"r{i}", "COMPLETED", at(i)) for i in (1, 3, 2))
    assert [r.run_id for r in newest_first([a, b, c, b])] == ["r3", "r2", "r1"]


@pytest.mark.parametrize(("ms", "text"), [(None, "-"), (850, "850ms"), (1000, "1s"), (150_000, "2m30s"),
                                          (3_600_000, "1h"), (3_725_000, "1h2m5s")])
def test_durations_read_like_kubectl(ms: int | None, text: str) -> None:
    assert duration_text(ms) == text


def test_the_table_shows_each_run_and_a_footer_with_the_selections_count_and_cost() -> None:
    record = run_record(run(1, "FAILED", cost=0.25, error="the agent failed\nbadly"))
    document = {"runs": [record], "page": 2, "pageSize": 1, "pages": 3,
                "selection": {"count": 3, "costUSD": 0.75, "runsWithoutCost": 1}}
    lines = render_table(document).splitlines()
    assert lines[0].split()[:3] == ["WORKFLOW", "ID", "STATUS"]
    assert lines[1].split()[:2] == [f"{SID}-1", "FAILED"]
    assert "$0.2500" in lines[1] and "the agent failed badly" in lines[1] and "5s" in lines[1]
    assert lines[2] == "runs 2-2 of 3 (page 2 of 3); cost of all 3: $0.7500 (1 without a reported cost)"


# --- the status patch ------------------------------------------------------------------------


def applied(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """RFC 7386, as the API server applies a merge patch."""
    result = dict(target)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = applied(result[key], value)
        else:
            result[key] = value
    return result


def test_the_status_patch_names_only_changed_leaves() -> None:
    previous = {"runs": {"total": 4, "consecutiveFailures": 0, "running": 1}, "phase": "Active",
                "recentRuns": [{"runId": "a"}], "accounting": {"countedIds": ["a"], "note": "someone else's"}}
    new = {"runs": {"total": 5, "consecutiveFailures": 0, "running": 0}, "phase": "Active",
           "recentRuns": [{"runId": "b"}, {"runId": "a"}], "accounting": {"countedIds": ["a", "b"]}}
    assert changed_leaves(previous, new) == {"runs": {"total": 5, "running": 0},
                                             "recentRuns": [{"runId": "b"}, {"runId": "a"}],
                                             "accounting": {"countedIds": ["a", "b"]}}


def test_a_concurrent_resume_keeps_its_reset_when_the_counters_did_not_touch_it() -> None:
    read = {"runs": {"total": 3, "consecutiveFailures": 3, "running": 1}}
    ours = changed_leaves(read, {"runs": {"total": 3, "consecutiveFailures": 3, "running": 0}})
    resumed = applied(read, {"runs": {"consecutiveFailures": 0}})  # lands between our read and our patch
    assert applied(resumed, ours)["runs"] == {"total": 3, "consecutiveFailures": 0, "running": 0}


json_leaf = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=2) | st.lists(st.integers(0, 3),
                                                                                            max_size=2)
json_object = st.recursive(st.dictionaries(st.sampled_from("abcd"), json_leaf, max_size=4),
                           lambda inner: st.dictionaries(st.sampled_from("abcd"), inner | json_leaf, max_size=4),
                           max_leaves=12)


def without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    return value


def leaves(value: dict[str, Any], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    found: dict[tuple[str, ...], Any] = {}
    for key, item in value.items():
        if isinstance(item, dict):  # an empty object holds no leaf
            found |= leaves(item, (*prefix, key))
        else:
            found[(*prefix, key)] = item
    return found


@given(json_object, json_object)
def test_applying_the_patch_sets_every_leaf_of_the_new_status_and_deletes_nothing(
    previous: dict[str, Any], new: dict[str, Any]
) -> None:
    previous, new = without_nulls(previous), without_nulls(new)  # a status holds no nulls
    result = applied(previous, changed_leaves(previous, new))
    after = leaves(result)
    assert all(path in after and after[path] == value for path, value in leaves(new).items())
    assert previous.keys() <= result.keys()
    assert changed_leaves(result, new) == {}


# --- what the index tells the sweep ------------------------------------------------------------


def test_an_index_entry_carries_the_bookmark_the_open_runs_and_a_pending_pause() -> None:
    meta = {"namespace": "team-a", "name": "news", "uid": "u1", "creationTimestamp": "2026-11-21T09:00:00Z"}
    accounting = {"closedThrough": "2026-11-21T10:00:00Z", "countedIds": ["r1"],
                  "autoPause": {"reason": "BudgetExhausted"}}
    body = {"metadata": meta, "spec": {}, "status": {
        "runs": {"running": 2}, "accounting": accounting,
        "conditions": [{"type": "Paused", "status": "False", "reason": "Active"}]}}
    entry = tracked_from_body(body)
    assert (entry.key, entry.uid, entry.running, entry.counted_ids) == ("team-a/news", "u1", 2, frozenset({"r1"}))
    assert entry.watermark == datetime(2026, 11, 21, 10, tzinfo=UTC) and entry.pause_pending
    assert tracked_from_body({"metadata": body["metadata"]}).watermark == datetime(2026, 11, 21, 9, tzinfo=UTC)


@pytest.mark.parametrize(("spec_paused", "condition", "pending"), [
    (False, {"type": "Paused", "status": "False", "reason": "Active"}, True),
    (False, {"type": "Paused", "status": "True", "reason": "BudgetExhausted"}, False),
    (False, {"type": "Paused", "status": "True", "reason": "UserRequested"}, True),
    (True, {"type": "Paused", "status": "True", "reason": "UserRequested"}, False),  # spec.paused wins
])
def test_an_automatic_pause_is_pending_until_the_paused_condition_shows_it(
    spec_paused: bool, condition: dict[str, str], pending: bool
) -> None:
    body = {"spec": {"paused": spec_paused}, "status": {"accounting": {"autoPause": {"reason": "BudgetExhausted"}},
                                                        "conditions": [condition]}}
    assert pause_pending(body) is pending
    assert not pause_pending({"spec": {}, "status": {"conditions": [condition]}})


def test_the_index_reader_takes_one_entry_per_resource() -> None:
    a, b = Tracked("ns", "a", "u1"), Tracked("ns", "b", "u2")
    assert index_reader({("ns", "a"): [a], ("ns", "b"): [b], ("ns", "gone"): []})() == [a, b]
