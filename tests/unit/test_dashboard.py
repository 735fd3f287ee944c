"""The shipped Grafana dashboard asks only for metrics the operator exposes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.support.counters import FakeKube, FakeTemporal

from sundial.controller.metrics import OperatorMetrics, bind_operator
from sundial.domain.indexed import IndexedSchedule
from sundial.domain.schedule_metrics import FAMILIES

DASHBOARD = Path(__file__).resolve().parents[2] / "helm" / "sundial" / "files" / "dashboard.json"
_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def exposed_names() -> set[str]:
    """Every sample name of the operator's exposition (histograms with their series suffixes)."""
    names = set(FAMILIES)
    metrics = OperatorMetrics()
    bind_operator(metrics, FakeTemporal(), FakeKube(), {("n", "s"): [IndexedSchedule(uid="u", phase="Active")]})
    for line in metrics.render().splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            names.add(name)
            if kind == "histogram":
                names.update(name + suffix for suffix in _HISTOGRAM_SUFFIXES)
    return names


def queries(node: Any) -> list[str]:
    """Every PromQL expression in the dashboard: panel targets and templating queries."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "definition") and isinstance(value, str):
                found.append(value)
            else:
                found += queries(value)
    elif isinstance(node, list):
        for item in node:
            found += queries(item)
    return found


def test_every_query_names_only_exposed_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = queries(dashboard)
    assert len(exprs) >= 12
    exposed = exposed_names()
    for expr in exprs:
        for name in re.findall(r"\b(sundial_[a-z_]+)\b", expr):
            assert name in exposed, f"{name} in {expr!r} is not exposed by the operator"


def test_the_dashboard_covers_phases_runs_cost_next_runs_and_health() -> None:
    text = " ".join(queries(json.loads(DASHBOARD.read_text())))
    for needed in ("sundial_schedules", "sundial_schedule_runs_total", "sundial_schedule_cost_usd_total",
                   "sundial_schedule_next_run_timestamp_seconds", "sundial_last_sweep_timestamp_seconds",
                   "sundial_reconciles_total"):
        assert needed in text, needed
