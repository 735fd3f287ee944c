"""A status field read under a name the models do not have fails ``mypy --strict`` (the plugin in
tools/mypy_typeddict_keys.py makes ``.get`` as strict as ``[]``); the models' own names pass."""

from __future__ import annotations

from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[2]
SNIPPET = '''from sundial.domain.status import Status, condition, status_of


def reads(body: dict[str, object]) -> list[object]:
    status: Status = status_of(body)
    ready = condition(status, "Ready") or {}
    good = [status.get("nextRunTime"), (status.get("temporal") or {}).get("scheduleId"), ready.get("reason")]
    return [*good, status.get("nextRunTme"), (status.get("temporal") or {}).get("scheduleID"), ready.get("Reason")]
'''


def test_only_the_misspelled_status_keys_fail_mypy(tmp_path: Path) -> None:
    snippet = tmp_path / "snippet.py"
    snippet.write_text(SNIPPET)
    out, err, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), "--no-incremental", str(snippet)])
    errors = [line for line in (out + err).splitlines() if ": error:" in line]
    assert status == 1
    assert [e.split(": error: ")[1] for e in errors] == [
        'TypedDict "ScheduleStatusDict" has no key "nextRunTme"  [typeddict-unknown-key]',
        'TypedDict "TemporalRefDict" has no key "scheduleID"  [typeddict-unknown-key]',
        'TypedDict "ConditionDict" has no key "Reason"  [typeddict-unknown-key]',
    ], out + err
    assert all(e.startswith(f"{snippet}:8:") for e in errors), errors  # the line of the good reads is clean
