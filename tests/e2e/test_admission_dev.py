"""``sundial dev``'s stack has the admission webhooks on, and hands its SCHEDULE_* settings to the operator."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from tests.e2e.test_admission import manifest
from tests.e2e.test_schedule_lifecycle import EXAMPLE_SPEC

from sundial.devstack.stack import DevStack


@pytest.fixture
def dev_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[DevStack]:
    monkeypatch.setenv("SCHEDULE_MAX_PER_USER", "1")  # as in `SCHEDULE_MAX_PER_USER=1 make dev`
    stack = DevStack(ui=False)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def test_sundial_dev_refuses_at_apply_with_its_own_settings(dev_stack: DevStack) -> None:
    def apply(name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(dev_stack.kubectl), *dev_stack.kube_args(), "apply", "-f", "-"],
                              input=manifest("default", name, EXAMPLE_SPEC), capture_output=True, text=True,
                              timeout=60)

    first = apply("first")
    assert first.returncode == 0, first.stderr
    second = apply("second")
    assert second.returncode != 0
    assert "user sundial-admin has 2 schedules; the limit is 1 (SCHEDULE_MAX_PER_USER)" in second.stderr
    bad = subprocess.run([str(dev_stack.kubectl), *dev_stack.kube_args(), "apply", "-f", "-"],
                         input=manifest("default", "bad", {**EXAMPLE_SPEC, "schedule": "*/5 * * * *"}),
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "runs every 5 min; the minimum interval is 60 min" in bad.stderr
