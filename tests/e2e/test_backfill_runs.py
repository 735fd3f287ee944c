"""``sundial backfill`` end to end: operator, reference worker, Temporal dev server, kube-apiserver.

The schedule is hourly and paused (``spec.paused``), so Temporal fires nothing on its own during
the test: every run seen comes from the backfill, which runs on a paused schedule too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import Client
from tests.e2e.helpers import Kube, ready_schedule_id
from tests.e2e.workers import WorkerProcess, cli_env, executions, run_spec, status_of, sundial
from tests.support.scripted_agent import scripted_query
from tests.support.waiting import eventually, eventually_async

from sundial.adapters.kube import BACKFILL_ANNOTATION
from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.operator_process import OperatorProcess
from sundial.devstack.temporal_dev import TemporalDevServer


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def hourly_spec() -> dict[str, Any]:
    """Paused: Temporal starts nothing on its own during the test, and still backfills (a person asked)."""
    return run_spec(scripted_query(outcome="success", cost=0.01), schedule="0 * * * *", paused=True,
                    pauseReason="only backfilled runs in this test")


def three_past_hours() -> tuple[datetime, datetime]:
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    return end - timedelta(hours=3), end


async def test_backfill_over_three_hours_of_an_hourly_schedule_starts_and_counts_three_runs(
    operator: OperatorProcess, kube: Kube, temporal_client: Client, worker: WorkerProcess,
    control_plane: LocalControlPlane, temporal_server: TemporalDevServer,
) -> None:
    ns = kube.new_namespace()
    kube.create(ns, "hourly", hourly_spec())
    sid = ready_schedule_id(kube, ns, "hourly")
    start, end = three_past_hours()

    done = sundial(cli_env(control_plane, temporal_server), "backfill", "hourly", "-n", ns,
                   "--from", stamp(start), "--to", stamp(end))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(f"backfill of {ns}/hourly: started 3 runs ")

    async def three_closed() -> list[Any] | None:
        runs = await executions(temporal_client, sid)
        return runs if len(runs) >= 3 and all(r.close_time for r in runs) else None
    runs = await eventually_async("3 backfilled runs closed", three_closed, timeout=60)
    expected = {f"{sid}-{stamp(start + timedelta(hours=h))}" for h in range(3)}
    assert {r.id for r in runs} == expected  # exactly the three missed times, nothing else
    status = eventually("3 runs counted", lambda: (lambda s: s if (s.get("runs") or {}).get("total") == 3 else None)(
        status_of(kube, ns, "hourly")), timeout=30)
    assert status["runs"]["succeeded"] == 3
    assert status["requests"]["backfillResult"] == "started 3 runs"
    assert "Backfilled" in kube.event_reasons(ns, "hourly")


async def test_a_range_over_max_runs_is_refused_before_anything_starts(
    operator: OperatorProcess, kube: Kube, temporal_client: Client,
    control_plane: LocalControlPlane, temporal_server: TemporalDevServer,
) -> None:
    ns = kube.new_namespace()
    kube.create(ns, "capped", hourly_spec())
    sid = ready_schedule_id(kube, ns, "capped")
    start, end = three_past_hours()

    refused = sundial(cli_env(control_plane, temporal_server), "backfill", "capped", "-n", ns,
                      "--from", stamp(start), "--to", stamp(end), "--max-runs", "2")
    assert refused.returncode == 1
    assert "refused, nothing started" in refused.stderr and "more than 2 runs (--max-runs 2)" in refused.stderr
    assert BACKFILL_ANNOTATION not in (kube.get(ns, "capped")["metadata"].get("annotations") or {})

    # the same request written by hand: the operator refuses it too, acknowledges it, starts nothing
    value = f'{{"from": "{stamp(start)}", "to": "{stamp(end)}", "maxRuns": 2}}'
    kube.custom.patch_namespaced_custom_object("sundial.dev", "v1alpha1", ns, "schedules", "capped",
                                               {"metadata": {"annotations": {BACKFILL_ANNOTATION: value}}})
    requests = eventually("refusal acknowledged", lambda: (
        status_of(kube, ns, "capped").get("requests") or {}) if (status_of(kube, ns, "capped").get("requests") or {}
                                                                  ).get("backfill") == value else None)
    assert requests["backfillResult"].startswith("refused: the range") and "maxRuns 2" in requests["backfillResult"]
    assert "BackfillRefused" in kube.event_reasons(ns, "capped")
    assert await executions(temporal_client, sid) == []
