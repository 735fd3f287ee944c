"""Flux's view of a Schedule: kstatus, computed by kstatus's own Go code.

Flux's health checks (Kustomization `wait`/`healthChecks`) use sigs.k8s.io/cli-utils' kstatus.
`sundial.devstack.build.ensure_kstatus()` builds a tiny CLI over its `status.Compute` from the
Go module (cached like the control plane), so these verdicts are the library's, not a port's.
The e2e twin (tests/e2e/test_install_gitops.py) takes the objects from a live operator.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from sundial.devstack.go_tools import ensure_kstatus

TESTDATA = Path(__file__).resolve().parents[2] / "deploy" / "argocd" / "sundial.dev" / "Schedule" / "testdata"


def kstatus(obj: dict[str, Any]) -> dict[str, str]:
    result = subprocess.run([str(ensure_kstatus())], input=json.dumps(obj), capture_output=True, text=True,
                            timeout=30, check=True)
    verdict: dict[str, str] = json.loads(result.stdout)
    return verdict


@pytest.mark.parametrize(("case", "expected"), [
    ("healthy", "Current"),
    ("suspended_userPaused", "Current"),  # a user pause is a healthy, reconciled state
    # kstatus calls an object without any status Current (its rule for types it does not know):
    # until the operator's first status write, Flux cannot tell. docs/install.md says so.
    ("progressing_noStatus", "Current"),
    ("progressing_generationNotObserved", "InProgress"),
    ("progressing_reconciling", "InProgress"),
    ("progressing_temporalUnavailable", "InProgress"),
    ("degraded_stalled", "Failed"),
    ("degraded_stalledWhilePaused", "Failed"),
    ("progressing_deleting", "Terminating"),
])
def test_kstatus_of_each_schedule_state(case: str, expected: str) -> None:
    obj = yaml.safe_load((TESTDATA / f"{case}.yaml").read_text())
    assert kstatus(obj)["status"] == expected


def test_failed_carries_the_stalled_message() -> None:
    obj = yaml.safe_load((TESTDATA / "degraded_stalled.yaml").read_text())
    assert "minimum interval is 60 min" in kstatus(obj)["message"]
