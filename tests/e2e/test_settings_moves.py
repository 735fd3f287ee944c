"""Settings that change the schedule ID (issue 10, item 15), against the real servers.

Restarting the operator with another ``SUNDIAL_CLUSTER_ID`` (then another
``SUNDIAL_TEMPORAL_NAMESPACE``) moves every schedule: the old one is deleted before the
new one is created, so there are never two schedules firing for one resource.
"""

from __future__ import annotations

import uuid
from typing import Any

from temporalio.client import Client
from tests.e2e.helpers import Kube, Replacements, ready
from tests.e2e.test_drift_repair import exists, temporal_cli
from tests.e2e.test_schedule_lifecycle import EXAMPLE_SPEC
from tests.support.waiting import eventually

from sundial.devstack.temporal_dev import TemporalDevServer


def moved(kube: Kube, namespace: str, name: str, old_id: str, old_namespace: str) -> dict[str, Any] | None:
    """``status.temporal`` once Ready somewhere other than (``old_id``, ``old_namespace``)."""
    body = ready(kube, namespace, name)
    temporal: dict[str, Any] = (body or {}).get("status", {}).get("temporal") or {}
    if not body or (temporal.get("scheduleId"), temporal.get("namespace")) == (old_id, old_namespace):
        return None
    return temporal


async def test_a_new_cluster_id_or_temporal_namespace_deletes_the_old_schedule_first(
    replace_operator: Replacements, kube: Kube, temporal_server: TemporalDevServer, temporal_client: Client
) -> None:
    namespace = kube.new_namespace()
    kube.create(namespace, "moving", EXAMPLE_SPEC)
    first: dict[str, Any] = eventually("Ready", lambda: ready(kube, namespace, "moving"), timeout=30)["status"][
        "temporal"]

    cluster_id = f"renamed-{uuid.uuid4().hex[:6]}"
    replace_operator("renamed", SUNDIAL_CLUSTER_ID=cluster_id)
    second = eventually("moved to the new cluster ID",
                        lambda: moved(kube, namespace, "moving", first["scheduleId"], first["namespace"]), timeout=60)
    assert second["scheduleId"] != first["scheduleId"]
    assert not await exists(temporal_client, first["scheduleId"]), "the old schedule still fires"
    assert await exists(temporal_client, second["scheduleId"])
    assert "PreviousScheduleDeleted" in kube.event_reasons(namespace, "moving")

    elsewhere = f"moved-{uuid.uuid4().hex[:6]}"
    temporal_cli(temporal_server, "operator", "namespace", "create", "--namespace", elsewhere)
    replace_operator("elsewhere", SUNDIAL_CLUSTER_ID=cluster_id, SUNDIAL_TEMPORAL_NAMESPACE=elsewhere)  # same ID
    third = eventually("moved to the new Temporal namespace",
                       lambda: moved(kube, namespace, "moving", second["scheduleId"], second["namespace"]), timeout=90)
    assert (third["namespace"], third["scheduleId"]) == (elsewhere, second["scheduleId"])
    assert not await exists(temporal_client, second["scheduleId"]), "the old namespace's schedule still fires"
    other = await Client.connect(temporal_server.address, namespace=elsewhere)
    assert await exists(other, third["scheduleId"])
    kube.delete(namespace, "moving")
    eventually("deleted", lambda: not kube.exists(namespace, "moving"), timeout=60)
    assert not await exists(other, third["scheduleId"])
