"""Flux's health view of live Schedules: kstatus (its own Go code) over what the operator wrote.

A Flux Kustomization with `wait: true` waits for kstatus Current and stops on Failed; these are
the verdicts kstatus gives real Schedules, reconciled by the operator against the real stack.
"""

from __future__ import annotations

from tests.e2e.conftest import Kube, OperatorProcess, condition, eventually, ready
from tests.e2e.test_schedule_lifecycle import EXAMPLE_SPEC
from tests.unit.test_chart_kstatus import kstatus


def test_a_ready_schedule_is_current_and_an_edit_is_current_again(operator: OperatorProcess, kube: Kube) -> None:
    ns = kube.new_namespace()
    kube.create(ns, "flux", EXAMPLE_SPEC)
    body = eventually("Ready", lambda: ready(kube, ns, "flux"), timeout=30)
    assert kstatus(body) == {"status": "Current", "message": "Resource is Ready"}
    kube.patch_spec(ns, "flux", {"schedule": "0 10 * * *"})
    body = eventually("edit observed", lambda: ready(kube, ns, "flux", generation=2), timeout=30)
    assert kstatus(body)["status"] == "Current"


def test_a_stalled_schedule_is_failed_with_the_reason(operator: OperatorProcess, kube: Kube) -> None:
    ns = kube.new_namespace()
    kube.create(ns, "too-often", {**EXAMPLE_SPEC, "schedule": "*/5 * * * *"})
    body = eventually("Stalled", lambda: (lambda b: b if condition(b, "Stalled").get("status") == "True" else None)(
        kube.get(ns, "too-often")), timeout=30)
    verdict = kstatus(body)
    assert verdict["status"] == "Failed"
    assert "minimum interval is 60 min" in verdict["message"]
