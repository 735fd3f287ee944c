"""The one adapter to the Kubernetes API (besides kopf's own watching).

Status patches, Events, the cluster ID and the CLI's reads and writes of `Schedule`
resources go through here. The official client is synchronous; calls run in a thread
so the operator's event loop keeps going.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError as TransportError

from sundial.domain.admission import CREATOR_ANNOTATION as CREATOR_ANNOTATION  # its home is the domain
from sundial.domain.status import Status
from sundial.errors import KubeConflict, KubeError, KubeForbidden, KubeNotFound, KubeUnavailable

GROUP, VERSION, PLURAL, KIND = "sundial.dev", "v1alpha1", "schedules", "Schedule"
POLICY_PLURAL = "schedulepolicies"
RESUME_ANNOTATION = "sundial.dev/resume-requested"
RESUME_REASON_ANNOTATION = "sundial.dev/resume-reason"  # why, for the Event and the Paused condition
PROBE_ANNOTATION = "sundial.dev/probe-requested"  # sundial resume --probe
TRIGGER_ANNOTATION = "sundial.dev/trigger-requested"
BACKFILL_ANNOTATION = "sundial.dev/backfill-requested"  # sundial backfill: JSON {"from", "to", ...}
SKIP_CLEANUP_ANNOTATION = "sundial.dev/skip-temporal-cleanup"  # "true": delete without touching Temporal
COMPONENT = "sundial-operator"
INSTALL_CONFIGMAP = "sundial-install-id"  # its UID is this operator install's identity
SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
#: Event posts the apiserver may refuse without anything being wrong with the work reported:
#: 404 the namespace is going away, 403 RBAC does not grant ``create events``, 429 throttled.
EVENT_DROPPED_STATUSES = frozenset({403, 404, 429})


class ScheduleResourceNotFound(KubeNotFound, LookupError):
    """No Schedule with that namespace and name."""


def operator_namespace(configured: str | None) -> str:
    """Where the operator keeps its own objects: the setting, else its pod's namespace, else ``default``."""
    if configured:
        return configured
    try:
        with open(SERVICE_ACCOUNT_NAMESPACE) as namespace_file:
            return namespace_file.read().strip() or "default"
    except OSError:
        return "default"


def translate(exc: ApiException | TransportError | OSError, what: str) -> KubeError:
    """Sundial's exception for a Kubernetes client one (the caller raises it ``from exc``), like
    ``temporal_mapping.translate`` on the Temporal side."""
    if not isinstance(exc, ApiException):  # connection refused, reset, timed out
        return KubeUnavailable(f"{what}: the Kubernetes API did not answer: {exc}")
    status, message = exc.status, f"{what}: {exc.status} {exc.reason}"
    if status == 404 and _names_an_object(exc):
        return KubeNotFound(message, status)
    if status == 404:  # the API itself is not served (CRD missing during a restore or an upgrade)
        return KubeUnavailable(f"{message}: the API is not served", status)
    if status == 409:
        return KubeConflict(message, status)
    if status in (401, 403):
        return KubeForbidden(message, status)
    if status == 429 or (status or 0) >= 500 or status == 0:
        return KubeUnavailable(message, status)
    return KubeError(message, status)


def _names_an_object(exc: ApiException) -> bool:
    """A 404 about an object (a Status naming it), not about a missing API: only that is absence."""
    try:
        details = (json.loads(exc.body or "{}") or {}).get("details") or {}
    except (TypeError, ValueError, AttributeError):
        return False
    return bool(details.get("name"))


async def _call(what: str, function: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one client call in a thread, with its errors translated."""
    try:
        return await asyncio.to_thread(function, *args, **kwargs)
    except (ApiException, TransportError, OSError) as exc:
        raise translate(exc, what) from exc


def load_api_client(context: str | None = None) -> client.ApiClient:
    """In-cluster credentials when running in a pod, else the kubeconfig (``$KUBECONFIG``)."""
    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
        return client.ApiClient()
    except config.ConfigException:
        return cast(client.ApiClient, config.new_client_from_config(context=context))  # type: ignore[no-untyped-call]


@dataclass
class KubeGateway:
    """Reads and writes of Schedule resources and their Events; counts writes for metrics.

    Satisfies ``ports.KubePort``.
    """

    api: client.ApiClient
    writes: dict[str, int] = field(default_factory=dict)

    def _count(self, what: str) -> None:
        self.writes[what] = self.writes.get(what, 0) + 1

    @property
    def _custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api)

    async def patch_status(self, namespace: str, name: str, status: Status,
                           resource_version: str | None = None) -> str | None:
        """Merge-patch ``status``; the new resourceVersion, or None when the Schedule is already gone.

        With ``resource_version`` the patch applies only to that version of the resource
        (KubeConflict otherwise): for writers whose values were computed from what they read.
        """
        self._count("status")
        body: dict[str, Any] = {"status": status}
        if resource_version:
            body["metadata"] = {"resourceVersion": resource_version}
        try:
            written = await _call(f"patch status of {namespace}/{name}",
                                  self._custom.patch_namespaced_custom_object_status,
                                  GROUP, VERSION, namespace, PLURAL, name, body)
        except KubeNotFound:
            return None
        version = ((written or {}).get("metadata") or {}).get("resourceVersion") if isinstance(written, dict) else None
        return str(version) if version else None

    async def patch_policy_status(self, name: str, status: dict[str, Any]) -> None:
        """Merge-patch the status of the SchedulePolicy ``name`` (cluster-scoped); gone already: nothing."""
        self._count("policy-status")
        with contextlib.suppress(KubeNotFound):
            await _call(f"patch status of SchedulePolicy {name}", self._custom.patch_cluster_custom_object_status,
                        GROUP, VERSION, POLICY_PLURAL, name, {"status": status})

    async def post_event(
        self, namespace: str, name: str, uid: str, event_type: str, reason: str, message: str
    ) -> bool:
        """A core/v1 Event on the Schedule (Normal or Warning), as ``kubectl describe`` shows.

        Best effort: False when the apiserver refused it with one of ``EVENT_DROPPED_STATUSES``
        (an Event reports work; it must never stop that work). Other errors are raised.
        """
        self._count("event")
        now = datetime.now(UTC)
        body = client.CoreV1Event(
            metadata=client.V1ObjectMeta(name=f"{name}.{secrets.token_hex(8)}", namespace=namespace),
            involved_object=client.V1ObjectReference(
                api_version=f"{GROUP}/{VERSION}", kind=KIND, name=name, namespace=namespace, uid=uid
            ),
            type=event_type, reason=reason, message=message[:1024],
            first_timestamp=now, last_timestamp=now, count=1,
            source=client.V1EventSource(component=COMPONENT),
            reporting_component=COMPONENT, reporting_instance=COMPONENT,
        )
        try:
            await _call(f"post event on {namespace}/{name}", client.CoreV1Api(self.api).create_namespaced_event,
                        namespace, body)
        except KubeError as exc:
            if exc.status in EVENT_DROPPED_STATUSES:
                return False
            raise
        return True

    async def close(self) -> None:
        await asyncio.to_thread(self.api.close)

    async def cluster_uid(self) -> str:
        """The UID of the kube-system namespace: stable for the life of the cluster."""
        namespace = await _call("read namespace kube-system", client.CoreV1Api(self.api).read_namespace,
                                "kube-system")
        assert namespace.metadata is not None and namespace.metadata.uid
        return str(namespace.metadata.uid)

    async def username(self) -> str:
        """Who the operator is to the apiserver (a SelfSubjectReview); '' if the server cannot say."""
        review = client.V1SelfSubjectReview(api_version="authentication.k8s.io/v1", kind="SelfSubjectReview")
        try:
            answer = await asyncio.to_thread(client.AuthenticationV1Api(self.api).create_self_subject_review, review)
        except ApiException:
            return ""
        return str(answer.status.user_info.username or "") if answer.status and answer.status.user_info else ""

    async def install_id(self, namespace: str) -> str | None:
        """The UID of the ConfigMap ``sundial-install-id`` in ``namespace``, created on first start.

        Needs ``get`` and ``create`` on ``configmaps`` in that namespace only; None when RBAC refuses
        either (an older chart): the operator then runs without an install identity. Deleting the
        ConfigMap gives the install a new identity (do it on a cluster restored from another's etcd).
        """
        core, what = client.CoreV1Api(self.api), f"configmap {namespace}/{INSTALL_CONFIGMAP}"
        try:
            try:
                found = await _call(f"read {what}", core.read_namespaced_config_map, INSTALL_CONFIGMAP, namespace)
            except KubeNotFound:
                body = client.V1ConfigMap(
                    metadata=client.V1ObjectMeta(name=INSTALL_CONFIGMAP, labels={"app.kubernetes.io/name": "sundial"}),
                    data={"purpose": "The UID of this ConfigMap identifies this Sundial install in Temporal "
                                     "schedule memos (sundial.dev/install-id). Do not copy it to another cluster."})
                try:
                    found = await _call(f"create {what}", core.create_namespaced_config_map, namespace, body)
                except KubeConflict:  # created by another replica meanwhile: read theirs
                    found = await _call(f"read {what}", core.read_namespaced_config_map, INSTALL_CONFIGMAP, namespace)
        except KubeForbidden:
            return None
        assert found.metadata is not None and found.metadata.uid
        return str(found.metadata.uid)

    async def get_schedule(self, namespace: str, name: str) -> dict[str, Any]:
        try:
            body = cast(dict[str, Any], await _call(f"get schedule {namespace}/{name}",
                                                    self._custom.get_namespaced_custom_object,
                                                    GROUP, VERSION, namespace, PLURAL, name))
        except KubeNotFound as exc:
            raise ScheduleResourceNotFound(f"schedule {namespace}/{name} not found", 404) from exc
        return body

    async def patch_schedule(self, namespace: str, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        """Merge-patch spec or metadata (the CLI's pause, resume and trigger)."""
        self._count("schedule")
        try:
            body = cast(dict[str, Any], await _call(f"patch schedule {namespace}/{name}",
                                                    self._custom.patch_namespaced_custom_object,
                                                    GROUP, VERSION, namespace, PLURAL, name, patch))
        except KubeNotFound as exc:
            raise ScheduleResourceNotFound(f"schedule {namespace}/{name} not found", 404) from exc
        return body

    async def get_peering(self, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """kopf's peering object (ClusterKopfPeering, or KopfPeering in ``namespace``); None when absent."""
        group, version = "kopf.dev", "v1"
        try:
            if namespace:
                found = await _call(f"get kopfpeering {namespace}/{name}", self._custom.get_namespaced_custom_object,
                                    group, version, namespace, "kopfpeerings", name)
            else:
                found = await _call(f"get clusterkopfpeering {name}", self._custom.get_cluster_custom_object,
                                    group, version, "clusterkopfpeerings", name)
        except KubeNotFound:
            return None
        return cast(dict[str, Any], found)

    async def list_schedules(self, namespace: str | None = None) -> list[dict[str, Any]]:
        if namespace:
            result: Any = await _call(f"list schedules in {namespace}", self._custom.list_namespaced_custom_object,
                                      GROUP, VERSION, namespace, PLURAL)
        else:
            result = await _call("list schedules", self._custom.list_cluster_custom_object, GROUP, VERSION, PLURAL)
        return cast(list[dict[str, Any]], result.get("items", []))

    async def count_schedules(self, namespace: str | None = None) -> int:
        """A list of one item: the apiserver says how many remain (``remainingItemCount``)."""
        if namespace:
            result: Any = await _call(f"count schedules in {namespace}", self._custom.list_namespaced_custom_object,
                                      GROUP, VERSION, namespace, PLURAL, limit=1)
        else:
            result = await _call("count schedules", self._custom.list_cluster_custom_object, GROUP, VERSION, PLURAL,
                                 limit=1)
        return len(result.get("items", [])) + int((result.get("metadata") or {}).get("remainingItemCount") or 0)


def may(api: client.ApiClient, rights: tuple[tuple[str, str, str], ...]) -> bool:
    """Whether RBAC grants this process every (group, resource, verb) cluster-wide (SelfSubjectAccessReviews,
    which every authenticated user may create)."""
    authz = client.AuthorizationV1Api(api)
    for group, resource, verb in rights:
        attributes = client.V1ResourceAttributes(group=group, resource=resource, verb=verb)
        review = client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=attributes))
        status = authz.create_self_subject_access_review(review).status
        if status is None or not status.allowed:
            return False
    return True
