"""Two installs, one cluster ID (issue 10, item 14), against the real servers.

The session's operator (install A: the UID of ``sundial-install-id`` in ``default``) writes a
schedule; a second install configured with the same cluster ID (its ConfigMap in another
namespace, as on a copied cluster) must report the conflict and touch nothing, even with
``SUNDIAL_ORPHAN_POLICY=delete``: not the resource's schedule, not an apparent orphan.
"""

from __future__ import annotations

import time
from typing import Any

from temporalio.client import Client
from tests.e2e.helpers import Kube, Replacements, condition, ready
from tests.e2e.test_drift_repair import create_raw, exists
from tests.e2e.test_schedule_lifecycle import EXAMPLE_SPEC, cluster_id, describe
from tests.support.waiting import eventually

from sundial.domain.identity import INSTALL_ID, ScheduleIdentity


async def test_a_second_install_with_the_same_cluster_id_reports_and_touches_nothing(
    replace_operator: Replacements, kube: Kube, temporal_client: Client
) -> None:
    meta = kube.core.read_namespaced_config_map("sundial-install-id", "default").metadata
    assert meta is not None and meta.uid
    install_a = str(meta.uid)
    namespace = kube.new_namespace()
    kube.create(namespace, "shared", EXAMPLE_SPEC)
    body = eventually("Ready", lambda: ready(kube, namespace, "shared"), timeout=30)
    sid: str = body["status"]["temporal"]["scheduleId"]
    assert (await (await describe(temporal_client, sid)).memo()).get(INSTALL_ID) == install_a
    ghost = ScheduleIdentity(cluster_id(kube), "gone", f"ghost-{time.monotonic_ns()}", "uid-g", install_a)
    await create_raw(temporal_client, ghost.schedule_id, ghost.memo())

    second = replace_operator("second-install", SUNDIAL_OPERATOR_NAMESPACE=kube.new_namespace(),
                              SUNDIAL_ORPHAN_POLICY="delete")

    def conflicted() -> dict[str, Any] | None:
        body = kube.get(namespace, "shared")
        return body if condition(body, "Ready").get("reason") == "InstallConflict" else None

    body = eventually("Ready=False InstallConflict", conflicted, timeout=60)
    assert install_a in condition(body, "Ready")["message"]
    assert "InstallConflict" in kube.event_reasons(namespace, "shared")
    second.wait_for_sweeps(3)
    assert second.metric("sundial_install_conflicts") >= 2
    assert await exists(temporal_client, ghost.schedule_id), "the other install's schedule was deleted"
    assert not (await describe(temporal_client, ghost.schedule_id)).schedule.state.paused
    assert await exists(temporal_client, sid)
    assert second.metric('sundial_orphans_total{action="deleted"}') == 0
    await temporal_client.get_schedule_handle(ghost.schedule_id).delete()
