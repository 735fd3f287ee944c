"""The one adapter to the Kubernetes API (besides kopf's own watching).

Status patches, Events, the cluster ID and the CLI's reads and writes of `Schedule`
resources go through here. The official client is synchronous; calls run in a thread
so the operator's event loop keeps going.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from sundial.domain.admission import CREATOR_ANNOTATION as CREATOR_ANNOTATION  # its home is the domain

GROUP, VERSION, PLURAL, KIND = "sundial.dev", "v1alpha1", "schedules", "Schedule"
RESUME_ANNOTATION = "sundial.dev/resume-requested"
RESUME_REASON_ANNOTATION = "sundial.dev/resume-reason"  # why, for the Event and the Paused condition
PROBE_ANNOTATION = "sundial.dev/probe-requested"  # sundial resume --probe
TRIGGER_ANNOTATION = "sundial.dev/trigger-requested"
BACKFILL_ANNOTATION = "sundial.dev/backfill-requested"  # sundial backfill: JSON {"from", "to", ...}
COMPONENT = "sundial-operator"


class ScheduleResourceNotFound(LookupError):
    """No Schedule with that namespace and name."""


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

    async def patch_status(self, namespace: str, name: str, status: dict[str, Any],
                           resource_version: str | None = None) -> None:
        """Merge-patch ``status``; a Schedule that is already gone is not an error.

        With ``resource_version`` the patch applies only to that version of the resource (a 409
        ApiException otherwise): for writers whose values were computed from what they read.
        """
        self._count("status")
        body: dict[str, Any] = {"status": status}
        if resource_version:
            body["metadata"] = {"resourceVersion": resource_version}
        try:
            await asyncio.to_thread(
                self._custom.patch_namespaced_custom_object_status, GROUP, VERSION, namespace, PLURAL, name, body,
            )
        except ApiException as exc:
            if exc.status != 404:
                raise

    async def post_event(
        self, namespace: str, name: str, uid: str, event_type: str, reason: str, message: str
    ) -> None:
        """A core/v1 Event on the Schedule (Normal or Warning), as ``kubectl describe`` shows."""
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
            await asyncio.to_thread(client.CoreV1Api(self.api).create_namespaced_event, namespace, body)
        except ApiException as exc:
            if exc.status != 404:  # the namespace is going away; the event has nowhere to live
                raise

    async def close(self) -> None:
        await asyncio.to_thread(self.api.close)

    async def cluster_uid(self) -> str:
        """The UID of the kube-system namespace: stable for the life of the cluster."""
        namespace = await asyncio.to_thread(client.CoreV1Api(self.api).read_namespace, "kube-system")
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

    async def get_schedule(self, namespace: str, name: str) -> dict[str, Any]:
        try:
            body = cast(dict[str, Any], await asyncio.to_thread(
                self._custom.get_namespaced_custom_object, GROUP, VERSION, namespace, PLURAL, name
            ))
        except ApiException as exc:
            if exc.status == 404:
                raise ScheduleResourceNotFound(f"schedule {namespace}/{name} not found") from exc
            raise
        return body

    async def patch_schedule(self, namespace: str, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        """Merge-patch spec or metadata (the CLI's pause, resume and trigger)."""
        self._count("schedule")
        try:
            body = cast(dict[str, Any], await asyncio.to_thread(
                self._custom.patch_namespaced_custom_object, GROUP, VERSION, namespace, PLURAL, name, patch
            ))
        except ApiException as exc:
            if exc.status == 404:
                raise ScheduleResourceNotFound(f"schedule {namespace}/{name} not found") from exc
            raise
        return body

    async def list_schedules(self, namespace: str | None = None) -> list[dict[str, Any]]:
        if namespace:
            result: Any = await asyncio.to_thread(
                self._custom.list_namespaced_custom_object, GROUP, VERSION, namespace, PLURAL
            )
        else:
            result = await asyncio.to_thread(self._custom.list_cluster_custom_object, GROUP, VERSION, PLURAL)
        return cast(list[dict[str, Any]], result.get("items", []))
