"""The shipped alert rules, checked and unit-tested by promtool itself (built from Prometheus' Go module).

``tests/prometheus/alerts_test.yaml`` holds, per alert, a case where it fires after its
``for:`` and not before, a case where it stays silent, and the series recovering.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from sundial.devstack.go_tools import ensure_promtool

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "helm" / "sundial" / "files" / "alerts.yaml"
RULE_TESTS = REPO / "tests" / "prometheus" / "alerts_test.yaml"
ALERTS = ("SundialScheduleAutoPaused", "SundialScheduleFailing", "SundialScheduleOverdue",
          "SundialScheduleBudgetNearlyExhausted", "SundialScheduleStalled", "SundialOperatorDown",
          "SundialTemporalUnreachable", "SundialSweepStale")


@pytest.fixture(scope="module")
def promtool() -> Path:
    return ensure_promtool()


def _promtool(promtool: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(promtool), *args], capture_output=True, text=True, timeout=120)


def test_the_rules_file_passes_promtool_check(promtool: Path) -> None:
    result = _promtool(promtool, "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_fires_waits_for_its_for_stays_silent_and_resolves(promtool: Path) -> None:
    result = _promtool(promtool, "test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_documented_alert_exists_with_summary_description_and_runbook() -> None:
    rules = {r["alert"]: r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]}
    assert sorted(rules) == sorted(ALERTS)
    for name, rule in rules.items():
        assert {"summary", "description", "runbook"} <= set(rule["annotations"]), name
        assert rule["labels"]["severity"] in ("info", "warning", "critical"), name


def test_each_alert_has_a_firing_and_a_resolving_case() -> None:
    cases = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    fired: set[str] = set()
    resolved: set[str] = set()
    for case in cases:
        seen_firing: set[str] = set()
        for check in case["alert_rule_test"]:
            if check["exp_alerts"]:
                seen_firing.add(check["alertname"])
            elif check["alertname"] in seen_firing:
                resolved.add(check["alertname"])
        fired |= seen_firing
    assert fired == set(ALERTS)
    assert resolved == set(ALERTS)


def test_each_alert_is_documented_in_the_runbook() -> None:
    runbook = (REPO / "docs" / "alerts.md").read_text()
    for name in ALERTS:
        assert f"### {name}" in runbook, name
