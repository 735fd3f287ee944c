"""manifests/ is the chart's default render: `make manifests` wrote it, and nothing has moved since."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from deploy.manifests import ARGOCD, MANIFESTS, argocd_cm_patch, expected_files


@pytest.mark.parametrize(("name", "text"), sorted(expected_files().items()))
def test_manifests_equal_the_default_render(name: str, text: str) -> None:
    committed = MANIFESTS / name
    assert committed.exists(), f"manifests/{name} is missing: run `make manifests`"
    assert committed.read_text() == text, f"manifests/{name} differs from the chart's render: run `make manifests`"


def test_the_kustomization_lists_every_file() -> None:
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(
        p.name for p in Path(MANIFESTS).glob("*.yaml") if p.name != "kustomization.yaml")


def test_the_argocd_cm_patch_carries_the_health_check_and_actions_as_committed() -> None:
    committed = ARGOCD / "argocd-cm-patch.yaml"
    assert committed.read_text() == argocd_cm_patch(), "deploy/argocd/argocd-cm-patch.yaml is stale: make manifests"
    data = yaml.safe_load(committed.read_text())["data"]
    health = ARGOCD / "sundial.dev" / "Schedule" / "health.lua"
    assert data["resource.customizations.health.sundial.dev_Schedule"] == health.read_text()
    actions = yaml.safe_load(data["resource.customizations.actions.sundial.dev_Schedule"])
    assert [d["name"] for d in actions["definitions"]] == ["pause", "resume", "trigger"]
