"""The command line's surface: every command is wired, and a bad setting stops ``sundial run`` in one line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sundial import cli
from sundial.cli import build_parser

COMMANDS = ("run", "dev", "control-plane", "crd", "pause", "resume", "trigger", "runs", "worker")


def test_every_command_of_the_spec_is_registered() -> None:
    parser = build_parser()
    choices = next(a for a in parser._actions if a.dest == "command").choices
    assert choices is not None
    assert set(COMMANDS) <= set(choices)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SUNDIAL_ORPHAN_POLICY", "nuke", "SUNDIAL_ORPHAN_POLICY='nuke' is not one of delete, pause, report"),
        ("SCHEDULE_MIN_INTERVAL_MINS", "an hour", "SCHEDULE_MIN_INTERVAL_MINS='an hour' is not a whole number"),
    ],
)
def test_a_bad_setting_stops_the_operator_with_one_line(variable: str, value: str, expected: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sundial.cli", "run"], env={**os.environ, variable: value},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"sundial: bad setting: {expected}"]


def test_crd_command_prints_the_committed_crd() -> None:
    from pathlib import Path

    result = subprocess.run([sys.executable, "-m", "sundial.cli", "crd"], capture_output=True, text=True,
                            timeout=60, check=True)
    committed = Path(__file__).resolve().parents[2] / "crds" / "sundial.dev_schedules.yaml"
    assert result.stdout == committed.read_text()


def test_the_program_leaves_with_its_exit_code_without_finalization(monkeypatch: pytest.MonkeyPatch) -> None:
    """``program`` ends the process with ``os._exit`` (native threads must not race the interpreter's
    finalization) and the command's own exit code."""
    exits: list[int] = []
    monkeypatch.setattr(cli, "main", lambda: 3)
    monkeypatch.setattr(os, "_exit", exits.append)
    cli.program()
    assert exits == [3]
