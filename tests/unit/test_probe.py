"""``sundial resume --probe``'s pure part, and the last failure's error in an automatic pause's message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sundial.domain.probe import failed_probe_message, probe_workflow_id, valid_token
from sundial.domain.run_records import ClosedRun, RunInfo
from sundial.domain.runs import HistoryLimits, Ledger, auto_pause_decision, fold

SID = "sundial.0123456789ab.team-a.digest"
T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def failed(n: int, error: str | None, status: str = "FAILED") -> ClosedRun:
    info = RunInfo(SID, f"{SID}-{n}", f"run-{n}", status, T0 + timedelta(seconds=10 * n - 5),
                   T0 + timedelta(seconds=10 * n))
    return ClosedRun(info, status, cost_usd=0.0, error=error)


def paused_after(runs: list[ClosedRun], limits: HistoryLimits | None = None) -> str:
    ledger = fold(Ledger(), runs, now=T0 + timedelta(minutes=10), window_start=T0, limits=limits or HistoryLimits(),
                  lag=timedelta(0))
    decision = auto_pause_decision(ledger, 3, None, T0)
    assert decision is not None
    return str(decision["message"])


def test_the_pause_names_the_last_error_even_when_the_history_keeps_no_failed_run() -> None:
    message = paused_after([failed(1, "e1"), failed(2, "e2"), failed(3, "quota exceeded")],
                           HistoryLimits(successful=3, failed=0))
    assert message.endswith("last error: quota exceeded")


def test_the_last_error_is_cut_and_a_run_without_one_says_how_it_ended() -> None:
    long = paused_after([failed(1, "e1"), failed(2, "e2"), failed(3, "x" * 5000)])
    assert "last error: " + "x" * 299 + "…" in long and len(long) < 400
    timed_out = paused_after([failed(1, "e1"), failed(2, "e2"), failed(3, None, "TERMINATED")])
    assert timed_out.endswith("last error: the run ended TERMINATED")


def test_probe_ids_are_distinct_from_the_schedules_runs_and_stable_per_request() -> None:
    token = "2026-12-01T10:00:00.123456Z"
    assert probe_workflow_id(SID, token) == f"probe-{SID}-{token}" == probe_workflow_id(SID, token)
    assert not probe_workflow_id(SID, token).startswith(SID)


@pytest.mark.parametrize(("token", "ok"), [("2026-12-01T10:00:00.123456Z", True), ("", False),
                                           ("a b", False), ("x" * 65, False), ("../../x'", False)])
def test_only_tokens_fit_for_a_workflow_id_are_accepted(token: str, ok: bool) -> None:
    assert valid_token(token) is ok


def test_a_failed_probe_adds_its_error_to_the_pause_message_replacing_an_earlier_probes() -> None:
    base = "3 failed runs in a row (policy.maxConsecutiveFailures is 3); last error: boom"
    once = failed_probe_message(base, "probe-a", "still\nbroken")
    assert once == base + "; probe run probe-a failed: still broken"
    twice = failed_probe_message(once, "probe-b", "x" * 3000)
    assert twice.startswith(base + "; probe run probe-b failed: ") and twice.endswith("…")
    assert len(twice) <= 1000 and "probe-a" not in twice
