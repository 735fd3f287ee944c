"""Hostile input on the real apiserver and operator: refused at apply where the schema can say it,
refused by the operator where only the rules can, and never a stopped operator (issue 10)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from kubernetes import client
from tests.e2e.conftest import GROUP, PLURAL, VERSION, Kube, OperatorProcess, eventually, ready
from tests.e2e.test_schedule_lifecycle import EXAMPLE_SPEC

from sundial.devstack.controlplane import LocalControlPlane


def deep_json(depth: int) -> str:
    """A value nested ``depth`` levels (lists and objects), as JSON text (no Python recursion)."""
    text = '"bottom"'
    for level in range(depth):
        text = f'{{"k":{text}}}' if level % 2 else f"[{text}]"
    return text


def kubectl(plane: LocalControlPlane, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(plane.binaries.kubectl), "--kubeconfig", str(plane.kubeconfig), *args],
                          input=stdin, capture_output=True, text=True, timeout=60)


def create_raw(plane: LocalControlPlane, namespace: str, name: str, spec_json: str) -> None:
    """Create through kubectl (Go): the Python client cannot even serialize what this test sends."""
    manifest = (f'{{"apiVersion":"{GROUP}/{VERSION}","kind":"Schedule",'
                f'"metadata":{{"name":"{name}","namespace":"{namespace}"}},"spec":{spec_json}}}')
    result = kubectl(plane, "create", "-f", "-", stdin=manifest)
    assert result.returncode == 0, result.stderr


def stalled_message(plane: LocalControlPlane, namespace: str, name: str) -> str:
    """The Stalled condition's message, read with kubectl's jsonpath (the object is too deep for Python)."""
    result = kubectl(plane, "get", f"{PLURAL}.{GROUP}", name, "-n", namespace, "-o",
                     'jsonpath={.status.conditions[?(@.type=="Stalled")].message}')
    return result.stdout if result.returncode == 0 else ""


APPLY_REFUSALS = [
    pytest.param({"timeoutSeconds": 10**15}, "spec.timeoutSeconds", "less than or equal to 86400", id="timeout"),
    pytest.param({"workflow": {"retry": {"maximumAttempts": 2**31}}}, "maximumAttempts",
                 "less than or equal to 100", id="attempts"),
    pytest.param({"startAt": "0001-01-01T00:00:00+14:00"}, "spec.startAt", "between the years 1970 and 2100",
                 id="start-year-1"),
    pytest.param({"endAt": "9999-12-31T23:59:59-14:00"}, "spec.endAt", "between the years 1970 and 2100",
                 id="end-year-9999"),
    pytest.param({"jitter": "200h"}, "spec.jitter", "must be at most 168h", id="jitter-200h"),
    pytest.param({"jitter": "12000000001h"}, "spec.jitter", "must be at most 168h", id="jitter-overflow"),
    pytest.param({"policy": {"catchupWindow": "0"}}, "spec.policy.catchupWindow", "between 10s and 8760h",
                 id="catchup-0"),
    pytest.param({"task": {"query": "q", "context": {f"k{n}": n for n in range(65)}}}, "spec.task.context",
                 "must have at most 64 items", id="context-65-keys"),
]


@pytest.mark.parametrize(("change", "field", "says"), APPLY_REFUSALS)
def test_out_of_range_values_are_refused_at_apply(crds: None, kube: Kube, change: dict[str, Any], field: str,
                                                 says: str) -> None:
    ns = kube.new_namespace()
    with pytest.raises(client.ApiException) as refused:
        kube.create(ns, "hostile", {**EXAMPLE_SPEC, **change})
    assert refused.value.status == 422
    message = json.loads(refused.value.body)["message"]
    assert field in message and says in message, message


def test_a_deep_object_is_refused_and_the_operator_keeps_serving_every_other_schedule(
    operator: OperatorProcess, kube: Kube, control_plane: LocalControlPlane,
) -> None:
    ns = kube.new_namespace()
    spec = json.dumps({**EXAMPLE_SPEC, "task": {"query": "q", "context": {"nested": "PLACEHOLDER"}}})
    create_raw(control_plane, ns, "deep", spec.replace('"PLACEHOLDER"', deep_json(3000)))
    message = eventually("the deep schedule refused", lambda: stalled_message(control_plane, ns, "deep"), timeout=30)
    assert message == ("spec.task.context: is nested more than 32 levels deep (objects and lists); "
                       "the limit is 32"), message
    kube.create(ns, "plain", EXAMPLE_SPEC)
    eventually("a plain schedule created after it is Ready", lambda: ready(kube, ns, "plain"), timeout=30)
    assert operator._alive()
