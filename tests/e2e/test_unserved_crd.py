"""A 404 is not always absence (issue 10, item 13), on the real apiserver.

While the CRD's version is not served (a restore, an upgrade, a bootstrap), a GET of a
Schedule answers 404 "the server could not find the requested resource". An operator that
starts then has an empty index, so every schedule of this cluster looks orphaned; the
confirming GET must not count that 404 as "the resource is gone", even with
``SUNDIAL_ORPHAN_POLICY=delete``. (The sweep now waits before judging any orphan until the
index is confirmed whole, and the count that confirms it fails the same way.)
"""

from __future__ import annotations

import pytest
from kubernetes import client
from temporalio.client import Client
from tests.e2e.helpers import Kube, Replacements, ready
from tests.e2e.test_drift_repair import exists
from tests.e2e.test_schedule_lifecycle import EXAMPLE_SPEC
from tests.support.waiting import eventually

from sundial.adapters.kube import translate
from sundial.devstack.operator_process import OperatorProcess
from sundial.errors import KubeNotFound

CRD_NAME = "schedules.sundial.dev"


def set_served(kube_api: client.ApiClient, served: bool) -> None:
    client.ApiextensionsV1Api(kube_api).patch_custom_resource_definition(
        CRD_NAME, [{"op": "replace", "path": "/spec/versions/0/served", "value": served}])


def not_served(kube: Kube, namespace: str, name: str) -> bool:
    try:
        kube.get(namespace, name)
    except client.ApiException as exc:
        return bool(exc.status == 404)
    return False


def test_only_a_404_that_names_the_object_is_absence(crds: None, kube: Kube) -> None:
    namespace = kube.new_namespace()
    with pytest.raises(client.ApiException) as gone:
        kube.get(namespace, "never-created")
    assert isinstance(translate(gone.value, "get"), KubeNotFound)
    unknown = client.CustomObjectsApi(kube.api)
    with pytest.raises(client.ApiException) as unserved:  # a version the CRD does not serve
        unknown.get_namespaced_custom_object("sundial.dev", "v9", namespace, "schedules", "never-created")
    assert unserved.value.status == 404
    assert not isinstance(translate(unserved.value, "get"), KubeNotFound)


async def test_an_unserved_crd_does_not_make_schedules_orphans(
    operator: OperatorProcess, replace_operator: Replacements, kube: Kube, kube_api: client.ApiClient,
    temporal_client: Client,
) -> None:
    namespace = kube.new_namespace()
    kube.create(namespace, "kept", EXAMPLE_SPEC)
    body = eventually("Ready", lambda: ready(kube, namespace, "kept"), timeout=30)
    sid = body["status"]["temporal"]["scheduleId"]
    operator.stop(timeout=10)
    set_served(kube_api, False)
    try:
        eventually("the CRD is not served", lambda: not_served(kube, namespace, "kept"), timeout=30)
        deleting = replace_operator("crd-not-served", SUNDIAL_ORPHAN_POLICY="delete")
        # an orphan would be acted on in its second sweep; with the CRD unserved the index cannot be
        # confirmed whole (its count fails too), so every sweep waits and judges nothing
        deleting.wait_for_sweeps(3, sample='sundial_sweeps_total{result="waiting"}')
        assert await exists(temporal_client, sid), "a schedule was deleted because its CRD was not served"
        assert deleting.metric('sundial_orphans_total{action="deleted"}') == 0
        assert "cannot count the Schedules; quotas and sweep wait" in deleting.log()
    finally:
        set_served(kube_api, True)
        eventually("the CRD is served again", lambda: kube.exists(namespace, "kept"), timeout=30)

