"""Per-schedule metrics: what each resource shows, and an exposition promtool accepts."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from typing import Any

from tests.support.counters import FakeKube, FakeTemporal

from sundial.controller.metrics import OperatorMetrics, bind_operator
from sundial.devstack.go_tools import ensure_promtool
from sundial.domain.indexed import IndexedSchedule
from sundial.domain.schedule_metrics import FAMILIES, ScheduleMetrics, metrics_from_body, render

BODY: dict[str, Any] = {
    "metadata": {"namespace": "team-a", "name": "news"},
    "spec": {"schedule": "0 9 * * *", "timeZone": "Asia/Tokyo",
             "policy": {"maxConsecutiveFailures": 4, "maxTotalBudgetUSD": 50}},
    "status": {
        "temporal": {"scheduleId": "sundial.abc.team-a.news"},
        "conditions": [{"type": "Paused", "status": "True", "reason": "ConsecutiveFailures"},
                       {"type": "Firing", "status": "False", "reason": "Overdue"},
                       {"type": "Stalled", "status": "False", "reason": "SpecValid"}],
        "nextRunTime": "2026-12-16T00:00:00Z", "lastRunTime": "2026-12-15T00:00:02Z",
        "lastSuccessfulTime": "2026-12-14T00:02:30Z",
        "runs": {"total": 45, "succeeded": 43, "failed": 2, "consecutiveFailures": 2},
        "cost": {"totalUSD": 20.25},
    },
}


def _epoch(year: int, month: int, day: int, hour: int, minute: int, second: int) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()


def test_an_entry_reads_every_figure_from_the_body() -> None:
    entry = metrics_from_body(BODY)
    assert entry == ScheduleMetrics(
        namespace="team-a", schedule="news", temporal_schedule_id="sundial.abc.team-a.news",
        timezone="Asia/Tokyo", cron="0 9 * * *", paused_reason="ConsecutiveFailures",
        next_run=_epoch(2026, 12, 16, 0, 0, 0), last_run=_epoch(2026, 12, 15, 0, 0, 2),
        last_success=_epoch(2026, 12, 14, 0, 2, 30), succeeded=43, failed=2,
        consecutive_failures=2, failure_limit=4, cost_usd=20.25, budget_usd=50.0, overdue=True,
        stalled_reason=None)


def test_a_new_resource_without_status_shows_zeroes_and_no_timestamps() -> None:
    text = render([metrics_from_body({"metadata": {"namespace": "n", "name": "s"}, "spec": {"schedule": "@daily"}})])
    assert 'sundial_schedule_paused{namespace="n",schedule="s",reason=""} 0' in text
    assert 'sundial_schedule_runs_total{namespace="n",schedule="s",result="failed"} 0' in text
    assert 'sundial_schedule_failure_limit{namespace="n",schedule="s"} 3' in text
    assert "timestamp_seconds{" not in text and "sundial_schedule_budget_usd{" not in text


def test_a_user_pause_and_a_refusal_have_their_reasons() -> None:
    body = {"metadata": {"namespace": "n", "name": "s"}, "spec": {"schedule": "*/5 * * * *"},
            "status": {"conditions": [{"type": "Paused", "status": "True", "reason": "UserRequested"},
                                      {"type": "Stalled", "status": "True", "reason": "IntervalTooShort"}]}}
    text = render([metrics_from_body(body)])
    assert 'sundial_schedule_paused{namespace="n",schedule="s",reason="user"} 1' in text
    assert 'sundial_schedule_stalled{namespace="n",schedule="s",reason="IntervalTooShort"} 1' in text


def test_label_values_from_an_invalid_spec_are_escaped() -> None:
    body = {"metadata": {"namespace": "n", "name": "s"}, "spec": {"schedule": 'a"b\\c\nd', "timeZone": 7}}
    text = render([metrics_from_body(body)])
    assert 'cron="a\\"b\\\\c\\nd"' in text and 'timezone="7"' in text


def test_each_family_has_help_and_type_once_and_its_samples_together() -> None:
    text = render([metrics_from_body(BODY), metrics_from_body({**BODY, "metadata": {"namespace": "b", "name": "x"}})])
    for family in FAMILIES:
        assert text.count(f"# TYPE {family} ") == (0 if family == "sundial_schedule_stalled" else 1), family
    names = [line.split("{")[0] for line in text.splitlines() if not line.startswith("#")]
    assert names == sorted(names, key=list(dict.fromkeys(names)).index)  # no family interleaved with another


def test_promtool_accepts_the_exposition() -> None:
    text = render([metrics_from_body(BODY)])
    result = subprocess.run([str(ensure_promtool()), "check", "metrics"], input=text, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_accepts_the_whole_operator_exposition() -> None:
    metrics = OperatorMetrics()
    bind_operator(metrics, FakeTemporal(), FakeKube(), {("team-a", "news"): [IndexedSchedule(uid="u")]},
                  {("team-a", "news"): [metrics_from_body(BODY)]})
    metrics.reconcile_seconds.observe(0.2)
    result = subprocess.run([str(ensure_promtool()), "check", "metrics"], input=metrics.render(),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
