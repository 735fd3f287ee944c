"""The finalizer webhook (issue 13): a new Schedule costs the operator at most 3 Kubernetes writes.

The mutating webhook ``finalizer.schedules.sundial.dev`` adds ``sundial.dev/temporal-schedule``
when a Schedule is created, so kopf finds its finalizer there and does not PATCH it in. The
writes are counted by the kube-apiserver itself (``apiserver_request_total`` by verb, resource
and subresource: every client's writes to Schedules and Events, minus the test's own creates),
under an operator that watches only the test's namespace, so no other resource is written in
the window. Without the webhook (or with it down: ``failurePolicy: Ignore``) kopf adds the
finalizer as before, one PATCH more; deletion runs the finalizer path either way.
"""

from __future__ import annotations

import re
import ssl
import urllib.request
from collections import Counter

from temporalio.client import Client
from tests.e2e.helpers import IDLE_SPEC, AdmissionWebhooks, Kube, Replacements, all_ready, ready
from tests.e2e.test_schedule_lifecycle import schedule_exists
from tests.support.waiting import eventually

from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.operator_process import OperatorProcess, parse_metrics
from sundial.domain.admission import FINALIZER

N = 10
WRITE_VERBS = ("POST", "PUT", "PATCH", "DELETE")
LABEL = re.compile(r'(\w+)="([^"]*)"')


def write_requests(plane: LocalControlPlane) -> Counter[str]:
    """Writes the kube-apiserver served to Schedules and Events, as ``"PATCH schedules/status": n``."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    request = urllib.request.Request(f"{plane.server}/metrics", headers={"Authorization": f"Bearer {plane.token}"})
    with urllib.request.urlopen(request, timeout=10, context=context) as resp:
        samples = parse_metrics(resp.read().decode())
    counts: Counter[str] = Counter()
    for key, value in samples.items():
        if not key.startswith("apiserver_request_total{"):
            continue
        labels = dict(LABEL.findall(key))
        if labels.get("verb") in WRITE_VERBS and labels.get("resource") in ("schedules", "events"):
            resource = "/".join(filter(None, (labels["resource"], labels.get("subresource"))))
            counts[f"{labels['verb']} {resource}"] += int(value)
    return counts


def operator_writes_for_new_schedules(kube: Kube, plane: LocalControlPlane, operator: OperatorProcess,
                                      namespace: str) -> tuple[Counter[str], list[list[str]]]:
    """Create N Schedules, wait until they are settled; the writes by others than the test (by request),
    and the finalizers each create's answer carried (what the apiserver stored, before any operator write)."""
    before = write_requests(plane)
    stored = [kube.create(namespace, f"s-{n}", IDLE_SPEC)["metadata"].get("finalizers") or [] for n in range(N)]
    eventually(f"all {N} Ready", lambda: all_ready(kube, [namespace], N), timeout=120, interval=0.5)
    eventually(f"{N} Created events", lambda: sum(
        event.reason == "Created" for event in kube.core.list_namespaced_event(namespace).items) >= N, timeout=30)
    operator.wait_for_sweeps(1)  # anything a new schedule still costs (a sweep's nextRunTime) lands by then
    writes = write_requests(plane)
    writes.subtract(before)
    writes["POST schedules"] -= N  # the test's own creates
    return +writes, stored


def test_a_new_schedule_costs_at_most_three_kubernetes_writes(
        replace_operator: Replacements, kube: Kube, control_plane: LocalControlPlane) -> None:
    namespace = kube.new_namespace()
    operator = replace_operator("finalizer-webhook", scope=("-n", namespace))
    writes, stored = operator_writes_for_new_schedules(kube, control_plane, operator, namespace)
    print(f"writes for {N} new schedules with the finalizer webhook: {dict(writes)}")

    assert sum(writes.values()) / N <= 3, writes
    assert "PATCH schedules" not in writes, writes  # kopf never patched the finalizer in:
    assert stored == [[FINALIZER]] * N  # it was there at admission, before the operator saw the resource
    assert all(kube.get(namespace, f"s-{n}")["metadata"]["finalizers"] == [FINALIZER] for n in range(N))


def test_without_the_finalizer_webhook_kopf_adds_it_as_before(
        replace_operator: Replacements, kube: Kube, control_plane: LocalControlPlane,
        admission_webhooks: AdmissionWebhooks) -> None:
    namespace = kube.new_namespace()
    operator = replace_operator("no-finalizer-webhook", scope=("-n", namespace))
    admission_webhooks.register(finalizer=False)  # as on a cluster with the webhook not installed
    try:
        writes, stored = operator_writes_for_new_schedules(kube, control_plane, operator, namespace)
    finally:
        admission_webhooks.register()
    print(f"writes for {N} new schedules without the finalizer webhook: {dict(writes)}")

    assert stored == [[]] * N
    assert writes["PATCH schedules"] == N  # kopf's finalizer PATCH, one per schedule
    assert all(kube.get(namespace, f"s-{n}")["metadata"]["finalizers"] == [FINALIZER] for n in range(N))


async def test_a_schedule_finalized_at_admission_is_deleted_through_the_finalizer(
        operator: OperatorProcess, kube: Kube, temporal_client: Client) -> None:
    namespace = kube.new_namespace()
    created = kube.create(namespace, "doomed", IDLE_SPEC)
    assert created["metadata"]["finalizers"] == [FINALIZER]
    body = eventually("Ready", lambda: ready(kube, namespace, "doomed"), timeout=30)
    sid = body["status"]["temporal"]["scheduleId"]
    assert await schedule_exists(temporal_client, sid)

    kube.delete(namespace, "doomed")
    eventually("the resource gone", lambda: not kube.exists(namespace, "doomed"), timeout=30)
    assert not await schedule_exists(temporal_client, sid)  # the delete handler ran before the finalizer went
    assert "Deleted" in kube.event_reasons(namespace, "doomed")
