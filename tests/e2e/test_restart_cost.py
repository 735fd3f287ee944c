"""What an operator restart costs (issue 13, item 2), on the real stack.

A restart must not describe every schedule: a resource whose recorded state is current is
left to the first sweep's list pages (``sundial.domain.resume``). Measured from the restarted
operator's own metrics (Temporal calls by operation, its Kubernetes writes, resumes by
result) and from the kube-apiserver's request counter (kopf's own writes included): before
the first sweep, no describe and no write; until steady state, about one list call per page.
A schedule edited while the operator was down is reconciled on start; one deleted in Temporal
while it was down is put back by the first sweep.
"""

from __future__ import annotations

import math
import ssl
import urllib.request
from collections.abc import Iterator

import pytest
from temporalio.client import Client
from tests.e2e.helpers import IDLE_SPEC, AdmissionWebhooks, Kube, Replacements, all_ready, ready
from tests.support.waiting import eventually, eventually_async

from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.operator_process import OperatorProcess, parse_metrics

N = 48  # under the namespace quota (50)
RESYNC = 30  # long enough that every resource is resumed before the first sweep
SCHEDULE_OPERATIONS = ("describe", "create", "update", "delete", "pause", "unpause", "list", "trigger", "backfill")
WRITE_VERBS = ("POST", "PUT", "PATCH", "DELETE")


def temporal_calls(operator: OperatorProcess) -> dict[str, float]:
    """Schedule calls by operation (run accounting's run queries are not schedule calls)."""
    metrics = operator.metrics()
    return {op: sum(v for k, v in metrics.items() if k.startswith("sundial_temporal_calls_total{")
                    and f'operation="{op}"' in k) for op in SCHEDULE_OPERATIONS}


def operator_writes(operator: OperatorProcess) -> float:
    return sum(v for k, v in operator.metrics().items() if k.startswith("sundial_kubernetes_writes_total"))


def resumes(operator: OperatorProcess, result: str) -> float:
    return operator.metric(f'sundial_resumes_total{{result="{result}"}}')


def apiserver_writes(plane: LocalControlPlane) -> float:
    """Writes to Schedules and Events the kube-apiserver has served (every client; the test makes none)."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    request = urllib.request.Request(f"{plane.server}/metrics", headers={"Authorization": f"Bearer {plane.token}"})
    with urllib.request.urlopen(request, timeout=10, context=context) as resp:
        samples = parse_metrics(resp.read().decode())
    return sum(value for key, value in samples.items() if key.startswith("apiserver_request_total{")
               and any(f'verb="{verb}"' in key for verb in WRITE_VERBS)
               and ('resource="schedules"' in key or 'resource="events"' in key))


@pytest.fixture(scope="module")
def settled(operator: OperatorProcess, kube: Kube) -> Iterator[str]:
    """N Ready schedules in a namespace of their own."""
    namespace = kube.new_namespace()
    for n in range(N):
        kube.create(namespace, f"s-{n}", IDLE_SPEC)
    eventually(f"all {N} Ready", lambda: all_ready(kube, [namespace], N), timeout=180, interval=1)
    yield namespace
    for n in range(N):
        kube.delete(namespace, f"s-{n}")


def restarted(replace_operator: Replacements, name: str, namespace: str, current: int) -> OperatorProcess:
    """A fresh operator for ``namespace``, once ``current`` resources were found current on resume."""
    process = replace_operator(name, scope=("-n", namespace), SUNDIAL_RESYNC_SECONDS=str(RESYNC))
    eventually(f"{current} resources resumed as current", lambda: resumes(process, "current") >= current,
               timeout=120, interval=0.5)
    return process


def test_a_restart_with_nothing_changed_costs_a_list_per_page(
        settled: str, replace_operator: Replacements, control_plane: LocalControlPlane) -> None:
    writes_before = apiserver_writes(control_plane)
    operator = restarted(replace_operator, "restart-clean", settled, N)

    assert operator.metric('sundial_sweeps_total{result="ok"}') == 0  # still before the first sweep
    assert (resumes(operator, "current"), resumes(operator, "reconciled")) == (N, 0)
    assert sum(temporal_calls(operator).values()) == 0  # no describe, nothing at all
    assert operator_writes(operator) == 0
    assert apiserver_writes(control_plane) == writes_before  # kopf wrote nothing either

    operator.wait_for_sweeps(1)
    calls = temporal_calls(operator)
    full_checks = math.ceil(N * RESYNC / 3600)  # the rolling full check's slice (SUNDIAL_FULL_CHECK default 1 h)
    assert calls["list"] == 1  # ceil(N / page size 1000)
    assert calls["describe"] <= full_checks
    assert sum(calls.values()) <= 1 + full_checks
    assert operator_writes(operator) == 0 and apiserver_writes(control_plane) == writes_before


async def test_what_changed_while_the_operator_was_down_is_reconciled_or_repaired(
        settled: str, operator: OperatorProcess, replace_operator: Replacements, kube: Kube,
        temporal_client: Client, admission_webhooks: AdmissionWebhooks) -> None:
    operator.stop(timeout=10)  # the session's; replace_operator starts it again after the test
    admission_webhooks.unregister()  # nobody serves them while the operator is down
    try:
        kube.patch_spec(settled, "s-0", {"schedule": "0 10 * * *"})  # edited while down
    finally:
        admission_webhooks.register()
    gone = kube.get(settled, "s-1")["status"]["temporal"]["scheduleId"]
    await temporal_client.get_schedule_handle(gone).delete()  # deleted in Temporal while down

    restarted_operator = restarted(replace_operator, "restart-changed", settled, N - 1)
    eventually("the edit applied", lambda: ready(kube, settled, "s-0", generation=2), timeout=30)
    assert restarted_operator.metric('sundial_sweeps_total{result="ok"}') == 0
    assert resumes(restarted_operator, "current") == N - 1  # the edited one: kopf's update (or a resume) reconciles
    calls = temporal_calls(restarted_operator)
    assert (calls["describe"], calls["update"], calls["create"]) == (1, 1, 0)  # the edited one only

    async def back() -> bool:
        try:
            await temporal_client.get_schedule_handle(gone).describe()
        except Exception:
            return False
        return True

    await eventually_async("the deleted schedule back after the first sweep", back, timeout=RESYNC + 60,
                           interval=1)
    assert restarted_operator.metric('sundial_drift_repairs_total{kind="missing"}') == 1
