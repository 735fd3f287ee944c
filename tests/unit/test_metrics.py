"""The metrics registry speaks Prometheus' text format, and ``/metrics`` serves it."""

from __future__ import annotations

import asyncio
import os
import re
import urllib.request

import kopf
import pytest
from tests.support.counters import FakeKube, FakeTemporal

from sundial.controller.metrics import CONTENT_TYPE, OperatorMetrics, bind_operator, record_reconcile, serve_metrics
from sundial.devstack.processes import free_port
from sundial.domain.indexed import IndexedSchedule
from sundial.domain.schedule_metrics import ScheduleMetrics, metrics_from_body

SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? \S+$')


def resident_memory_bytes() -> float:
    """This process's resident set size, read from /proc independently of the library."""
    with open("/proc/self/statm") as statm:
        return float(int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE"))


def samples(text: str) -> dict[str, float]:
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines() if line and not line.startswith("#")}


def test_every_line_is_valid_exposition_format() -> None:
    metrics = OperatorMetrics()
    metrics.reconciles.inc(result="ok")
    metrics.drift_repairs.inc(kind="missing")
    metrics.reconcile_seconds.observe(0.2)
    text = metrics.render()
    assert text.endswith("\n")
    for line in text.splitlines():
        assert line.startswith(("# HELP ", "# TYPE ")) or SAMPLE.match(line), line


def test_a_counter_adds_per_label_set() -> None:
    metrics = OperatorMetrics()
    metrics.drift_repairs.inc(kind="a")
    metrics.drift_repairs.inc(2, kind="a")
    metrics.drift_repairs.inc(kind="b")
    lines = [line for line in metrics.render().splitlines() if "sundial_drift_repairs_total" in line]
    assert lines[:2] == ["# HELP sundial_drift_repairs_total Out-of-band changes in Temporal put back, by kind.",
                         "# TYPE sundial_drift_repairs_total counter"]
    assert samples("\n".join(lines)) == {'sundial_drift_repairs_total{kind="a"}': 3,
                                         'sundial_drift_repairs_total{kind="b"}': 1}
    assert metrics.drift_repairs.value(kind="a") == 3 and metrics.drift_repairs.value(kind="never") == 0


def test_label_values_are_escaped() -> None:
    metrics = OperatorMetrics()
    metrics.last_sweep_temporal.set(1.5, operation='a "quoted"\\path\nnext')
    assert 'sundial_last_sweep_temporal_calls{operation="a \\"quoted\\"\\\\path\\nnext"} 1.5' in (
        metrics.render().splitlines())


def test_a_histogram_has_cumulative_buckets_sum_and_count() -> None:
    metrics = OperatorMetrics()
    for value in (0.05, 0.5, 0.5, 3.0):
        metrics.sweep_seconds.observe(value)
    values = {k: v for k, v in samples(metrics.render()).items() if k.startswith("sundial_sweep_duration")}
    assert values['sundial_sweep_duration_seconds_bucket{le="0.05"}'] == 1
    assert values['sundial_sweep_duration_seconds_bucket{le="0.5"}'] == 3
    assert values['sundial_sweep_duration_seconds_bucket{le="2.5"}'] == 3
    assert values['sundial_sweep_duration_seconds_bucket{le="+Inf"}'] == 4
    assert values["sundial_sweep_duration_seconds_sum"] == pytest.approx(4.05)
    assert values["sundial_sweep_duration_seconds_count"] == 4


def test_adapter_counters_and_phases_are_read_when_scraped(monkeypatch: pytest.MonkeyPatch) -> None:
    metrics, temporal, kube = OperatorMetrics(), FakeTemporal(), FakeKube()
    index: dict[tuple[str, str], list[IndexedSchedule]] = {
        ("a", "x"): [IndexedSchedule(uid="1", phase="Active")], ("a", "y"): [IndexedSchedule(uid="2")]}
    bind_operator(metrics, temporal, kube, index)
    temporal.calls["list"]["ok"] += 2
    temporal.list_pages = 2
    kube.writes["status"] = 3
    index[("a", "z")] = [IndexedSchedule(uid="3", phase="Active")]
    monkeypatch.setattr("sundial.controller.metrics.PHASES_TTL_SECONDS", 0.0)
    values = samples(metrics.render())
    assert values['sundial_temporal_calls_total{operation="list",outcome="ok"}'] == 2
    assert values["sundial_temporal_list_pages_total"] == 2
    assert values['sundial_kubernetes_writes_total{kind="status"}'] == 3
    assert values['sundial_schedules{phase="Active"}'] == 2
    assert values['sundial_schedules{phase="Pending"}'] == 1
    assert values["process_resident_memory_bytes"] == pytest.approx(resident_memory_bytes(), rel=0.5)


def test_binding_again_replaces_the_sources_instead_of_duplicating() -> None:
    metrics = OperatorMetrics()
    bind_operator(metrics, FakeTemporal(), FakeKube(), {})
    second = FakeKube(writes={"event": 1})
    bind_operator(metrics, FakeTemporal(), second, {})
    text = metrics.render()
    assert text.count("# TYPE sundial_kubernetes_writes_total") == 1
    assert samples(text)['sundial_kubernetes_writes_total{kind="event"}'] == 1


@pytest.mark.parametrize(("raised", "result"), [
    (None, "ok"), (kopf.PermanentError("bad spec"), "refused"), (kopf.TemporaryError("away"), "retry"),
    (RuntimeError("bug"), "error"),
])
async def test_reconciles_are_counted_by_result_and_timed(raised: Exception | None, result: str) -> None:
    from sundial.controller import metrics as module

    before = module.METRICS.reconciles.value(result=result)
    count_before = module.METRICS.value("sundial_reconcile_duration_seconds_count")

    @record_reconcile
    async def reconcile() -> None:
        if raised is not None:
            raise raised

    if raised is None:
        await reconcile()
    else:
        with pytest.raises(type(raised)):
            await reconcile()
    assert module.METRICS.reconciles.value(result=result) == before + 1
    assert module.METRICS.value("sundial_reconcile_duration_seconds_count") == count_before + 1


async def test_the_endpoint_serves_the_text_format() -> None:
    metrics, port = OperatorMetrics(), free_port()
    metrics.sweeps.inc(result="ok")
    runner = await serve_metrics(metrics, port, host="127.0.0.1")
    try:
        def fetch() -> tuple[str, str]:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
                return response.headers["Content-Type"], response.read().decode()

        content_type, body = await asyncio.to_thread(fetch)
    finally:
        await runner.cleanup()
    assert content_type == CONTENT_TYPE
    assert samples(body)['sundial_sweeps_total{result="ok"}'] == 1


def test_a_decision_is_one_line_as_text_and_as_json(caplog: pytest.LogCaptureFixture) -> None:
    import json
    import logging

    from kopf._core.actions.loggers import ObjectJsonFormatter

    from sundial.logs import decision

    logger = logging.getLogger("sundial.test-decisions")
    with caplog.at_level(logging.INFO, logger=logger.name):
        decision(logger, "drift-repaired", "drift repaired", kind="missing", name="team-a/x", skipped=None)
    record = caplog.records[-1]
    assert record.getMessage() == "drift repaired kind=missing name=team-a/x"
    as_json = json.loads(ObjectJsonFormatter().format(record))
    assert (as_json["decision"], as_json["kind"], as_json["name_"]) == ("drift-repaired", "missing", "team-a/x")
    assert "skipped" not in as_json


def test_per_schedule_metrics_follow_the_index_and_go_with_the_resource() -> None:
    metrics = OperatorMetrics()
    body = {"metadata": {"namespace": "team-a", "name": "news"}, "spec": {"schedule": "0 9 * * *"},
            "status": {"runs": {"succeeded": 4, "failed": 1}, "cost": {"totalUSD": 1.5},
                       "conditions": [{"type": "Paused", "status": "True", "reason": "ConsecutiveFailures"}]}}
    per_schedule: dict[tuple[str, str], list[ScheduleMetrics]] = {("team-a", "news"): [metrics_from_body(body)]}
    bind_operator(metrics, FakeTemporal(), FakeKube(), {}, per_schedule)
    values = samples(metrics.render())
    assert values['sundial_schedule_paused{namespace="team-a",schedule="news",reason="ConsecutiveFailures"}'] == 1
    assert values['sundial_schedule_runs_total{namespace="team-a",schedule="news",result="succeeded"}'] == 4
    assert values['sundial_schedule_cost_usd_total{namespace="team-a",schedule="news"}'] == 1.5
    del per_schedule[("team-a", "news")]
    assert 'schedule="news"' not in metrics.render()
