"""Every example a user may copy is applied with kubectl against the real stack: each YAML file in
``examples/`` and each ``yaml`` block of the README becomes Ready, or, when it says
``# expect-refusal: <Reason>``, is refused (Invalid, Stalled) with that documented reason."""

from __future__ import annotations

import functools
import re
import subprocess
from typing import Any

import pytest
import yaml
from tests.e2e.helpers import REPO, Kube, condition, ready
from tests.e2e.test_refusals import stalled
from tests.support.waiting import eventually

from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.operator_process import OperatorProcess

EXPECT_REFUSAL = re.compile(r"^#\s*expect-refusal:\s*(\w+)", re.MULTILINE)


def readme_blocks() -> list[tuple[str, str]]:
    text = (REPO / "README.md").read_text()
    return [(f"README.md yaml block {n}", block)
            for n, block in enumerate(re.findall(r"```ya?ml\n(.*?)```", text, re.DOTALL), start=1)]


def examples() -> list[tuple[str, str]]:
    files = sorted((REPO / "examples").glob("*.y*ml"))
    return [(str(path.relative_to(REPO)), path.read_text()) for path in files] + readme_blocks()


def test_there_are_examples_to_check() -> None:
    assert len(examples()) >= 3


def apply(control_plane: LocalControlPlane, document: dict[str, Any]) -> None:
    result = subprocess.run([str(control_plane.binaries.kubectl), "--kubeconfig", str(control_plane.kubeconfig),
                             "apply", "-f", "-"], input=yaml.safe_dump(document, allow_unicode=True),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("source", "text"), examples(), ids=[source for source, _ in examples()])
def test_every_example_is_ready_or_refused_as_documented(
    operator: OperatorProcess, kube: Kube, control_plane: LocalControlPlane, source: str, text: str,
) -> None:
    expected = EXPECT_REFUSAL.search(text)
    schedules = [d for d in yaml.safe_load_all(text) if d and d.get("kind") == "Schedule"]
    assert schedules, f"{source}: no Schedule in it"
    # each example in a namespace of its own, whatever it names; one meant to be refused where the webhook
    # leaves it to the operator, so the refusal shows in status (with the webhook, kubectl apply says it)
    ns = kube.new_namespace(webhook=expected is None)
    for document in schedules:
        document["metadata"]["namespace"] = ns
        apply(control_plane, document)
    for document in schedules:
        name: str = document["metadata"]["name"]
        if expected is None:
            body = eventually(f"{source}: {name} Ready", functools.partial(ready, kube, ns, name), timeout=30)
            assert body["status"]["phase"] == "Active", source
        else:
            body = eventually(f"{source}: {name} refused", functools.partial(stalled, kube, ns, name), timeout=30)
            assert body["status"]["phase"] == "Invalid", source
            assert condition(body, "Stalled")["reason"] == expected.group(1), source
