"""Temporal refusing the operator is not the user's mistake, and never blocks deletion (issue 10, item 12).

Against the real servers: an operator pointed at a Temporal namespace that does not exist
shows ``Ready=False, TemporalNamespaceNotFound`` (not Invalid, not Stalled) and recovers by
itself once an admin creates the namespace with the ``temporal`` CLI; a deletion while
Temporal is unreachable waits with the reason in status until an admin sets
``sundial.dev/skip-temporal-cleanup``.
"""

from __future__ import annotations

import uuid
from typing import Any

from temporalio.client import Client
from tests.e2e.helpers import Kube, Replacements, condition, ready
from tests.e2e.test_drift_repair import temporal_cli
from tests.e2e.test_schedule_lifecycle import EXAMPLE_SPEC
from tests.support.waiting import eventually

from sundial.devstack.processes import free_port
from sundial.devstack.temporal_dev import TemporalDevServer


def reason_of(kube: Kube, namespace: str, name: str, type_: str = "Ready") -> str | None:
    found: str | None = condition(kube.get(namespace, name), type_).get("reason")
    return found


async def test_a_missing_temporal_namespace_is_temporary_and_recovers_once_created(
    replace_operator: Replacements, kube: Kube, temporal_server: TemporalDevServer, temporal_client: Client
) -> None:
    temporal_namespace = f"later-{uuid.uuid4().hex[:8]}"
    replace_operator("no-temporal-namespace", SUNDIAL_TEMPORAL_NAMESPACE=temporal_namespace)
    namespace = kube.new_namespace()
    kube.create(namespace, "waits", EXAMPLE_SPEC)
    eventually("Ready=False TemporalNamespaceNotFound",
               lambda: reason_of(kube, namespace, "waits") == "TemporalNamespaceNotFound", timeout=60)
    body = kube.get(namespace, "waits")
    assert body["status"]["phase"] in ("Pending", "Error")  # not Invalid: nothing in the spec is wrong
    assert condition(body, "Stalled").get("status") != "True"
    assert temporal_namespace in condition(body, "Ready")["message"]
    assert "TemporalNamespaceNotFound" in kube.event_reasons(namespace, "waits")

    temporal_cli(temporal_server, "operator", "namespace", "create", "--namespace", temporal_namespace)
    body = eventually("Ready once the Temporal namespace exists", lambda: ready(kube, namespace, "waits"),
                      timeout=120)
    assert body["status"]["temporal"]["namespace"] == temporal_namespace
    kube.delete(namespace, "waits")  # by this operator, from that Temporal namespace
    eventually("deleted", lambda: not kube.exists(namespace, "waits"), timeout=60)


def test_a_deletion_while_temporal_is_unreachable_waits_until_an_admin_skips_the_cleanup(
    replace_operator: Replacements, kube: Kube
) -> None:
    replace_operator("no-temporal", SUNDIAL_TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}")  # nobody listens there
    namespace = kube.new_namespace()
    kube.create(namespace, "stuck", EXAMPLE_SPEC)
    eventually("the finalizer is on", lambda: kube.get(namespace, "stuck")["metadata"].get("finalizers"),
               timeout=60)
    kube.delete(namespace, "stuck")
    def waiting() -> dict[str, Any] | None:
        body = kube.get(namespace, "stuck")
        ready_condition = condition(body, "Ready")
        waits = ready_condition.get("reason") == "Deleting" and "skip-temporal-cleanup" in ready_condition["message"]
        return body if waits else None

    body = eventually("the deletion waits for Temporal, saying why", waiting, timeout=90)
    assert "TemporalUnavailable" in condition(body, "Ready")["message"]
    kube.custom.patch_namespaced_custom_object(
        "sundial.dev", "v1alpha1", namespace, "schedules", "stuck",
        {"metadata": {"annotations": {"sundial.dev/skip-temporal-cleanup": "true"}}})
    eventually("released without Temporal", lambda: not kube.exists(namespace, "stuck"), timeout=90)
    assert "TemporalCleanupSkipped" in kube.event_reasons(namespace, "stuck")
