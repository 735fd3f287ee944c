"""Every command's errors go to stderr, one line, stdout left for results (exit codes unchanged)."""

from __future__ import annotations

import argparse
import signal
from typing import Any

import pytest

from sundial.commands import control_plane, dev, run
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


@pytest.mark.parametrize("name", ["team-*", "!team-a", "Team-A", "-team", "t" * 64, ""])
def test_run_refuses_a_namespace_that_is_not_a_name(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """kopf takes ``team-*`` as a pattern; the operator's count of each namespace's Schedules cannot."""
    args = argparse.Namespace(namespace=["team-a", name], webhook_port=None, webhook_cert=None, webhook_key=None)
    assert run._run(args) == 2
    out, err = capsys.readouterr()
    assert out == "" and f"--namespace {name!r} is not a namespace name" in err and "patterns" in err


def test_run_takes_namespace_names() -> None:
    assert run.watched_namespaces(["team-a", "b", "t" * 63]) == ("team-a", "b", "t" * 63)
