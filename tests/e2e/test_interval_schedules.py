"""Intervals (``@every``) and several specs (``spec.schedules``) on the real stack: kube-apiserver with the
CRD and admission webhooks, the operator process, and a Temporal dev server.

Where a refusal comes from: the CRD's CEL rules refuse the shape (neither or both of schedule and
schedules, a malformed entry) for everyone; the minimum interval is the operator's setting, so the
webhook refuses at ``kubectl apply`` and, where the webhook is bypassed, the reconcile marks the
Schedule Stalled with the same message.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from temporalio.client import Client, ScheduleIntervalSpec
from tests.e2e.helpers import Kube, condition, ready, ready_schedule_id
from tests.e2e.test_admission import apply, stalled_message
from tests.e2e.test_schedule_lifecycle import EXAMPLE_SPEC, describe, schedule_exists, schedule_id

from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.operator_process import OperatorProcess

WEBHOOK = 'admission webhook "validate.schedules.sundial.dev" denied the request: '


def spec_with(**change: Any) -> dict[str, Any]:
    spec = {k: v for k, v in EXAMPLE_SPEC.items() if k != "schedule"}
    return {**spec, **change}


async def test_every_90m_becomes_ready_and_temporal_runs_it_every_90_minutes(
    operator: OperatorProcess, kube: Kube, control_plane: LocalControlPlane, temporal_client: Client,
) -> None:
    ns = kube.new_namespace()
    result = apply(control_plane, ns, "every-90", spec_with(schedule="@every 90m"))  # minimum interval: 60
    assert result.returncode == 0, result.stderr
    sid = ready_schedule_id(kube, ns, "every-90")
    described = await describe(temporal_client, sid)
    assert described.schedule.spec.intervals == [ScheduleIntervalSpec(every=timedelta(minutes=90))]
    assert described.schedule.spec.cron_expressions == [] and described.schedule.spec.calendars == []
    times = described.info.next_action_times
    assert len(times) >= 2 and {b - a for a, b in pairwise(times)} == {timedelta(minutes=90)}
    assert all(t.timestamp() % 5400 == 0 for t in times)  # counted from the epoch, whatever the zone
    status = kube.get(ns, "every-90")["status"]
    assert datetime.fromisoformat(status["nextRunTime"].replace("Z", "+00:00")) == times[0]


async def test_two_crons_are_one_temporal_schedule_with_two_calendars_and_an_edit_adds_an_interval(
    operator: OperatorProcess, kube: Kube, control_plane: LocalControlPlane, temporal_client: Client,
) -> None:
    ns = kube.new_namespace()
    crons = ["0 9 * * 1-5", "0 12 * * 6,0"]
    assert apply(control_plane, ns, "two", spec_with(schedules=crons)).returncode == 0
    sid = ready_schedule_id(kube, ns, "two")
    spec = (await describe(temporal_client, sid)).schedule.spec
    assert [[(r.start, r.end) for r in c.hour] for c in spec.calendars] == [[(9, 9)], [(12, 12)]]
    assert spec.time_zone_name == "Asia/Tokyo" and spec.intervals == []

    kube.patch_spec(ns, "two", {"schedules": [*crons, "@every 6h/3h"]})
    ready_schedule_id(kube, ns, "two", generation=2)
    spec = (await describe(temporal_client, sid)).schedule.spec
    assert len(spec.calendars) == 2
    assert spec.intervals == [ScheduleIntervalSpec(every=timedelta(hours=6), offset=timedelta(hours=3))]


@pytest.mark.parametrize(("spec", "field", "message"), [
    pytest.param(spec_with(schedules=["0 * * * *", "5 * * * *"]), "spec.schedules[1]",
                 'spec.schedules[1]: "5 * * * *" and spec.schedules[0] "0 * * * *" together have runs only 5 min '
                 "apart; the minimum interval is 60 min (SCHEDULE_MIN_INTERVAL_MINS)", id="union-5-min"),
    pytest.param(spec_with(schedule="@every 30m"), "spec.schedule",
                 'spec.schedule: "@every 30m" runs every 30 min; the minimum interval is 60 min '
                 "(SCHEDULE_MIN_INTERVAL_MINS)", id="every-30m"),
])
async def test_too_often_is_refused_by_the_webhook_and_stalled_where_it_is_bypassed(
    operator: OperatorProcess, kube: Kube, control_plane: LocalControlPlane, temporal_client: Client,
    spec: dict[str, Any], field: str, message: str,
) -> None:
    ns = kube.new_namespace()
    refused = apply(control_plane, ns, "often", spec)
    assert refused.returncode != 0 and WEBHOOK + message in refused.stderr, refused.stderr
    assert not kube.exists(ns, "often")

    backstop = kube.new_namespace(webhook=False)
    kube.create(backstop, "often", spec)
    assert stalled_message(kube, backstop, "often") == message
    stall = condition(kube.get(backstop, "often"), "Stalled")
    assert stall["reason"] == "IntervalTooShort"
    assert ready(kube, backstop, "often") is None
    assert not await schedule_exists(temporal_client, schedule_id(kube, backstop, "often"))


@pytest.mark.parametrize(("spec", "mentions"), [
    pytest.param(spec_with(), "exactly one of spec.schedule and spec.schedules is required", id="neither"),
    pytest.param(spec_with(schedule="0 9 * * *", schedules=["0 10 * * *"]),
                 "exactly one of spec.schedule and spec.schedules is required", id="both"),
    pytest.param(spec_with(schedules=[f"{m} 9 * * *" for m in range(11)]), "must have at most 10 items",
                 id="eleven"),
    pytest.param(spec_with(schedules=["0 9 * * *", "@every  90m"]), "spec.schedules[1]", id="bad-shape"),
])
def test_the_crd_refuses_the_shape_for_everyone(
    operator: OperatorProcess, kube: Kube, control_plane: LocalControlPlane, spec: dict[str, Any], mentions: str,
) -> None:
    ns = kube.new_namespace(webhook=False)  # no webhook: the apiserver's schema alone
    refused = apply(control_plane, ns, "shape", spec)
    assert refused.returncode != 0 and mentions in refused.stderr, refused.stderr
    assert "admission webhook" not in refused.stderr
    assert not kube.exists(ns, "shape")
