"""Hostile input on the real apiserver and operator: refused at apply where the schema can say it,
refused by the operator where only the rules can, and never a stopped operator (issue 10)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from temporalio.client import Client
from tests.e2e.helpers import GROUP, PLURAL, VERSION, Kube, condition, e2e_operator_env, ready
from tests.e2e.test_cli_actions import sundial
from tests.e2e.test_schedule_lifecycle import EXAMPLE_SPEC, describe
from tests.support.waiting import eventually, eventually_async

from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.operator_process import OperatorProcess
from sundial.devstack.temporal_dev import TemporalDevServer


def deep_json(depth: int) -> str:
    """A value nested ``depth`` levels (lists and objects), as JSON text (no Python recursion)."""
    text = '"bottom"'
    for level in range(depth):
        text = f'{{"k":{text}}}' if level % 2 else f"[{text}]"
    return text


def kubectl(plane: LocalControlPlane, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(plane.binaries.kubectl), "--kubeconfig", str(plane.kubeconfig), *args],
                          input=stdin, capture_output=True, text=True, timeout=60)


def create_raw(plane: LocalControlPlane, namespace: str, name: str, spec_json: str) -> subprocess.CompletedProcess[str]:
    """Create through kubectl (Go): the Python client cannot even serialize what this test sends."""
    manifest = (f'{{"apiVersion":"{GROUP}/{VERSION}","kind":"Schedule",'
                f'"metadata":{{"name":"{name}","namespace":"{namespace}"}},"spec":{spec_json}}}')
    return kubectl(plane, "create", "-f", "-", stdin=manifest)


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
    message = json.loads(refused.value.body or "{}")["message"]
    assert field in message and says in message, message


DEEP_REFUSAL = "spec.task.context: is nested more than 32 levels deep (objects and lists); the limit is 32"


def deep_spec(depth: int) -> str:
    spec = json.dumps({**EXAMPLE_SPEC, "task": {"query": "q", "context": {"nested": "PLACEHOLDER"}}})
    return spec.replace('"PLACEHOLDER"', deep_json(depth))


def healthy(operator: OperatorProcess) -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{operator.liveness_port}/healthz", timeout=5) as health:
        return bool(health.status == 200)


def test_a_deep_object_is_refused_at_apply_by_the_webhook(
    operator: OperatorProcess, kube: Kube, control_plane: LocalControlPlane,
) -> None:
    """The schema cannot see inside free-form values; the admission webhook runs the same rules."""
    ns = kube.new_namespace()
    refused = create_raw(control_plane, ns, "deep", deep_spec(3000))
    assert refused.returncode != 0 and DEEP_REFUSAL in refused.stderr, refused.stderr
    assert not kube.exists(ns, "deep")
    assert healthy(operator)


def test_a_deep_object_past_the_webhook_is_refused_and_the_operator_keeps_serving_every_other_schedule(
    operator: OperatorProcess, kube: Kube, control_plane: LocalControlPlane,
) -> None:
    """Without the webhook (here: a namespace it leaves out), the object is stored; the operator, which
    decodes the watch stream, refuses it and goes on with every other schedule."""
    ns = kube.new_namespace(webhook=False)
    created = create_raw(control_plane, ns, "deep", deep_spec(3000))
    assert created.returncode == 0, created.stderr
    message = eventually("the deep schedule refused", lambda: stalled_message(control_plane, ns, "deep"), timeout=30)
    assert message == DEEP_REFUSAL, message
    kube.create(ns, "plain", EXAMPLE_SPEC)
    eventually("a plain schedule created after it is Ready", lambda: ready(kube, ns, "plain"), timeout=30)
    assert healthy(operator)


@dataclass
class NamespacedOperator(OperatorProcess):
    """``sundial run -n NS``: an operator that touches only one namespace (so a strict quota there
    leaves the rest of the session's schedules alone)."""

    namespace: str = ""

    def argv(self) -> list[str]:
        argv = super().argv()
        at = argv.index("-A")
        return [*argv[:at], "-n", self.namespace, *argv[at + 1:]]


@contextmanager
def namespaced_operator(session: OperatorProcess, workdir: Path, namespace: str, env: dict[str, str]
                        ) -> Iterator[OperatorProcess]:
    """In place of the session's operator (one per cluster at a time), which comes back after."""
    session.stop(timeout=10)
    own = NamespacedOperator(workdir, env, extra_args=("--verbose",), namespace=namespace)
    try:
        own.start()
        yield own
    finally:
        own.stop(timeout=10)
        session.start()


async def temporal_state(temporal_client: Client, kube: Kube, namespace: str, name: str) -> tuple[bool, str]:
    sid = kube.get(namespace, name)["status"]["temporal"]["scheduleId"]
    state = (await describe(temporal_client, sid)).schedule.state
    return state.paused, state.note or ""


async def test_lowering_the_quota_pauses_what_exceeds_it_in_temporal_and_raising_it_resumes(
    operator: OperatorProcess, kube: Kube, temporal_client: Client, control_plane: LocalControlPlane,
    temporal_server: TemporalDevServer, stack_dir: Path,
) -> None:
    """Issue 10 item 7: a schedule refused for a quota stops running in Temporal (paused, never deleted)."""
    ns = kube.new_namespace()
    for name in ("first", "second"):
        kube.create(ns, name, EXAMPLE_SPEC)
        eventually(f"{name} Ready", lambda name=name: ready(kube, ns, name), timeout=30)  # type: ignore[misc]
        await asyncio.sleep(1.1)  # creationTimestamp has whole seconds: "first" must be the older
    env = e2e_operator_env(control_plane, temporal_server, SCHEDULE_MAX_PER_NAMESPACE="1",
                           SUNDIAL_ORPHAN_POLICY="report")
    with namespaced_operator(operator, stack_dir / f"operator-quota-{ns}", ns, env):
        body = eventually("second refused", lambda: condition(kube.get(ns, "second"), "Stalled").get("reason")
                          == "ScheduleLimitReached" and kube.get(ns, "second"), timeout=30)
        assert "the limit is 1 (SCHEDULE_MAX_PER_NAMESPACE)" in condition(body, "Stalled")["message"]

        async def second_paused() -> bool:
            paused, note = await temporal_state(temporal_client, kube, ns, "second")
            return paused and note.startswith("ScheduleLimitReached: namespace")

        await eventually_async("second paused in Temporal with the quota as its note", second_paused, 15)
        assert "Paused" in kube.event_reasons(ns, "second")
        assert ready(kube, ns, "first") and not (await temporal_state(temporal_client, kube, ns, "first"))[0]
    eventually("second accepted again under the default quota", lambda: ready(kube, ns, "second"), timeout=30)
    assert not (await temporal_state(temporal_client, kube, ns, "second"))[0]


async def test_a_second_trigger_within_the_minimum_interval_is_refused_and_says_why(
    operator: OperatorProcess, kube: Kube, temporal_client: Client, control_plane: LocalControlPlane,
    temporal_server: TemporalDevServer, stack_dir: Path,
) -> None:
    """Issue 10 item 5: a trigger starts at most one run per minimum interval (the default limit: 60 min;
    the session's operator runs without it, so this test runs its own)."""
    ns = kube.new_namespace()
    env = e2e_operator_env(control_plane, temporal_server, SUNDIAL_ORPHAN_POLICY="report")
    del env["SUNDIAL_TRIGGER_MIN_INTERVAL_MINS"]
    with namespaced_operator(operator, stack_dir / f"operator-trigger-{ns}", ns, env):
        kube.create(ns, "twice", EXAMPLE_SPEC)
        sid = eventually("Ready", lambda: ready(kube, ns, "twice"), timeout=30)["status"]["temporal"]["scheduleId"]
        first = sundial(control_plane, "trigger", "twice", "-n", ns)
        assert first.returncode == 0, first.stdout + first.stderr

        second = sundial(control_plane, "trigger", "twice", "-n", ns)
        assert second.returncode == 1, second.stdout + second.stderr
        result = kube.get(ns, "twice")["status"]["requests"]["triggerResult"]
        assert result.startswith("refused: a trigger started a run at ") and "at most one per 60 min" in result
        assert "TriggerRefused" in kube.event_reasons(ns, "twice")
        assert (await describe(temporal_client, sid)).info.num_actions == 1
