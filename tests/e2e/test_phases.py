"""Phase and conditions as documented: Pending before the first sync, Reconciling=True while a spec
change is applied. Every status the apiserver stored is replayed with a watch from the resourceVersion
before the change, so a short-lived state is seen however fast the operator is."""

from __future__ import annotations

from typing import Any

from kubernetes import watch
from tests.e2e.helpers import Kube, condition, ready
from tests.e2e.test_schedule_lifecycle import EXAMPLE_SPEC
from tests.support.waiting import eventually

from sundial.adapters.kube import GROUP, PLURAL, VERSION
from sundial.devstack.operator_process import OperatorProcess


def stored_versions(kube: Kube, namespace: str, name: str, since: str, generation: int) -> list[dict[str, Any]]:
    """Every version of the resource stored after ``since``, up to the one Ready at ``generation``."""
    seen: list[dict[str, Any]] = []
    stream: Any = watch.Watch().stream(  # type: ignore[no-untyped-call]
        kube.custom.list_namespaced_custom_object, GROUP, VERSION, namespace, PLURAL,
        field_selector=f"metadata.name={name}", resource_version=since, timeout_seconds=10)
    for event in stream:
        body: dict[str, Any] = event["object"]
        seen.append(body)
        status = body.get("status") or {}
        if condition(body, "Ready").get("status") == "True" and status.get("observedGeneration") == generation:
            break
    return seen


def namespace_version(kube: Kube, namespace: str) -> str:
    listing: Any = kube.custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
    version: str = listing["metadata"]["resourceVersion"]
    return version


def test_a_new_schedule_is_pending_and_reconciling_before_it_is_ready(operator: OperatorProcess,
                                                                      kube: Kube) -> None:
    ns = kube.new_namespace()
    since = namespace_version(kube, ns)
    kube.create(ns, "fresh", EXAMPLE_SPEC)
    eventually("Ready", lambda: ready(kube, ns, "fresh", generation=1), timeout=30)
    versions = stored_versions(kube, ns, "fresh", since, 1)
    phases = [(v.get("status") or {}).get("phase") for v in versions]
    assert "Pending" in phases, phases
    assert phases.index("Pending") < phases.index("Active"), phases
    pending = versions[phases.index("Pending")]
    assert condition(pending, "Reconciling")["status"] == "True"
    assert condition(pending, "Ready")["status"] == "False"
    assert condition(versions[-1], "Reconciling")["status"] == "False"


def test_a_spec_change_shows_reconciling_true_until_it_is_applied(operator: OperatorProcess,
                                                                   kube: Kube) -> None:
    ns = kube.new_namespace()
    kube.create(ns, "edited", EXAMPLE_SPEC)
    body = eventually("Ready", lambda: ready(kube, ns, "edited", generation=1), timeout=30)
    since = body["metadata"]["resourceVersion"]
    kube.patch_spec(ns, "edited", {"schedule": "0 10 * * *"})
    eventually("Ready at generation 2", lambda: ready(kube, ns, "edited", generation=2), timeout=30)
    versions = stored_versions(kube, ns, "edited", since, 2)
    reconciling = [v for v in versions if condition(v, "Reconciling").get("status") == "True"]
    assert reconciling, [condition(v, "Reconciling") for v in versions]
    assert condition(reconciling[0], "Reconciling")["observedGeneration"] == 2
    assert reconciling[0]["status"]["phase"] == "Active"  # synced before: not Pending again
    final = versions[-1]
    assert condition(final, "Reconciling")["status"] == "False"
    assert final["status"]["phase"] == "Active"
