"""Events are best effort (issue 10, item 17), against the real apiserver's RBAC.

An operator whose ServiceAccount may write Schedule status but not create Events (a chart
that forgot ``events``, or an admission policy) must still write the refusal it would have
announced: the 403 on the Event is logged, and the work it reports on goes on.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, cast

from kubernetes import client
from tests.e2e.helpers import GROUP, PLURAL, Kube, condition

from sundial.adapters.kube import KubeGateway
from sundial.controller.context import OperatorContext
from sundial.controller.reconcile import refuse
from sundial.settings import Settings

AUDIENCE = "https://kubernetes.default.svc.cluster.local"


def client_without_events(kube_api: client.ApiClient, namespace: str) -> client.ApiClient:
    """An API client as a ServiceAccount that may read and patch Schedules (and their status) only."""
    core, rbac = client.CoreV1Api(kube_api), client.RbacAuthorizationV1Api(kube_api)
    name = "no-events"
    core.create_namespaced_service_account(namespace, client.V1ServiceAccount(
        metadata=client.V1ObjectMeta(name=name)))
    rbac.create_namespaced_role(namespace, client.V1Role(
        metadata=client.V1ObjectMeta(name=name),
        rules=[client.V1PolicyRule(api_groups=[GROUP], resources=[PLURAL, f"{PLURAL}/status"],
                                   verbs=["get", "list", "watch", "patch"])]))
    rbac.create_namespaced_role_binding(namespace, client.V1RoleBinding(
        metadata=client.V1ObjectMeta(name=name),
        role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name=name),
        subjects=[client.RbacV1Subject(kind="ServiceAccount", name=name, namespace=namespace)]))
    issued = core.create_namespaced_service_account_token(name, namespace, client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[AUDIENCE])))
    assert issued.status is not None
    token = issued.status.token
    admin = kube_api.configuration
    configuration = client.Configuration(host=admin.host, api_key={"authorization": f"Bearer {token}"})
    configuration.ssl_ca_cert = admin.ssl_ca_cert
    return client.ApiClient(configuration)


async def test_a_forbidden_event_does_not_stop_a_refusal_from_being_written(
    crds: None, kube: Kube, kube_api: client.ApiClient
) -> None:
    namespace = kube.new_namespace()
    body = kube.create(namespace, "quota", {"schedule": "0 9 * * *", "task": {"query": "q"}})
    restricted = KubeGateway(client_without_events(kube_api, namespace))
    ctx = OperatorContext(settings=Settings(), temporal=cast(Any, None), kube=restricted, cluster_id="c",
                          logger=logging.getLogger("test"))
    message = f"refused for the test {uuid.uuid4().hex[:8]}"
    await refuse(ctx, body, {}, "QuotaExceeded", message)
    stalled = condition(kube.get(namespace, "quota"), "Stalled")
    assert (stalled.get("status"), stalled.get("reason"), stalled.get("message")) == (
        "True", "QuotaExceeded", message)
    assert "QuotaExceeded" not in kube.event_reasons(namespace, "quota")
    forbidden = await restricted.post_event(namespace, "quota", body["metadata"]["uid"], "Warning", "Probe", "x")
    assert forbidden is False  # the real apiserver refused it (403), and that is not an error
