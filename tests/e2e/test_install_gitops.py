"""GitOps views of live Schedules: Flux's kstatus (its own Go code) and Argo CD's health and actions.

A Flux Kustomization with `wait: true` waits for kstatus Current and stops on Failed; these are
the verdicts kstatus gives real Schedules, reconciled by the operator against the real stack.
Argo CD's actions are run in Lua 5.1 on the live object and their change sent as a merge patch
(Argo CD patches what the action changed), and health.lua then reads what the operator did.
"""

from __future__ import annotations

from typing import Any

from tests.e2e.helpers import Kube, condition, ready
from tests.e2e.test_schedule_lifecycle import EXAMPLE_SPEC
from tests.support.waiting import eventually
from tests.unit.test_argocd import CHECKS, run_script
from tests.unit.test_chart_kstatus import kstatus

from sundial.devstack.operator_process import OperatorProcess


def test_a_ready_schedule_is_current_and_an_edit_is_current_again(operator: OperatorProcess, kube: Kube) -> None:
    ns = kube.new_namespace()
    kube.create(ns, "flux", EXAMPLE_SPEC)
    body = eventually("Ready", lambda: ready(kube, ns, "flux"), timeout=30)
    assert kstatus(body) == {"status": "Current", "message": "Resource is Ready"}
    kube.patch_spec(ns, "flux", {"schedule": "0 10 * * *"})
    body = eventually("edit observed", lambda: ready(kube, ns, "flux", generation=2), timeout=30)
    assert kstatus(body)["status"] == "Current"


def test_a_stalled_schedule_is_failed_with_the_reason(operator: OperatorProcess, kube: Kube) -> None:
    ns = kube.new_namespace(webhook=False)  # else the admission webhook refuses it at once
    kube.create(ns, "too-often", {**EXAMPLE_SPEC, "schedule": "*/5 * * * *"})
    body = eventually("Stalled", lambda: (lambda b: b if condition(b, "Stalled").get("status") == "True" else None)(
        kube.get(ns, "too-often")), timeout=30)
    verdict = kstatus(body)
    assert verdict["status"] == "Failed"
    assert "minimum interval is 60 min" in verdict["message"]


def changes(before: Any, after: Any) -> Any:
    """The JSON merge patch from ``before`` to ``after`` (removed keys are not produced by the actions)."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return after
    return {k: changes(before.get(k), v) for k, v in after.items() if before.get(k) != v}


def act(kube: Kube, ns: str, name: str, action: str) -> None:
    body = kube.get(ns, name)
    result = run_script(CHECKS / "actions" / action / "action.lua", body)
    patch = changes(body, result)
    assert patch, f"{action} changed nothing"
    kube.custom.patch_namespaced_custom_object("sundial.dev", "v1alpha1", ns, "schedules", name, patch)


def health(kube: Kube, ns: str, name: str) -> str:
    status: str = run_script(CHECKS / "health.lua", kube.get(ns, name))["status"]
    return status


def test_argo_cd_actions_drive_the_operator_and_health_follows(operator: OperatorProcess, kube: Kube) -> None:
    ns = kube.new_namespace()
    kube.create(ns, "argo", EXAMPLE_SPEC)
    eventually("Ready", lambda: ready(kube, ns, "argo"), timeout=30)
    assert health(kube, ns, "argo") == "Healthy"

    act(kube, ns, "argo", "pause")
    eventually("Suspended", lambda: health(kube, ns, "argo") == "Suspended", timeout=30)
    act(kube, ns, "argo", "resume")
    eventually("Healthy again", lambda: health(kube, ns, "argo") == "Healthy", timeout=30)
    assert condition(kube.get(ns, "argo"), "Paused")["status"] == "False"

    act(kube, ns, "argo", "trigger")
    token = kube.get(ns, "argo")["metadata"]["annotations"]["sundial.dev/trigger-requested"]
    eventually("the trigger acknowledged", lambda: ((kube.get(ns, "argo").get("status") or {}).get("requests")
                                                    or {}).get("trigger") == token, timeout=30)
