"""Every command's errors go to stderr, one line, stdout left for results (exit codes unchanged)."""

from __future__ import annotations

import argparse
import signal
from typing import Any

import pytest

from sundial.commands import control_plane, dev
from sundial.devstack.build import BuildError
from sundial.devstack.processes import StackError


def test_control_plane_reports_a_failed_build_on_stderr(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    def fail() -> None:
        raise BuildError("go 1.25 or newer is needed, found none on PATH")

    monkeypatch.setattr(control_plane, "ensure_binaries", fail)
    assert control_plane._run(argparse.Namespace()) == 1
    assert capsys.readouterr() == ("", "error: go 1.25 or newer is needed, found none on PATH\n")


class StackThatCannotStart:
    """``DevStack``'s interface (start, check_alive, stop), failing to start like a taken port would."""

    stopped = False

    def __init__(self, **_: Any) -> None:
        pass

    def start(self) -> None:
        raise StackError("temporal dev server exited: address already in use")

    def check_alive(self) -> None:
        raise AssertionError("not started")

    def stop(self) -> None:
        StackThatCannotStart.stopped = True


def test_dev_reports_a_stack_that_cannot_start_on_stderr(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(dev, "DevStack", StackThatCannotStart)
    monkeypatch.setattr(signal, "signal", lambda *_: None)  # keep pytest's own handlers
    args = argparse.Namespace(kubeconfig=None, context=None, no_ui=True)
    assert dev._run(args) == 1
    assert capsys.readouterr() == ("", "error: temporal dev server exited: address already in use\n")
    assert StackThatCannotStart.stopped
