"""``sundial import``'s own pieces: names and the printed document (Temporal is read in e2e)."""

from __future__ import annotations

import pytest
import yaml

from sundial.cli import main
from sundial.commands import import_schedule
from sundial.commands.import_schedule import checked_name, default_name, document
from sundial.commands.schedule_actions import CommandError


def test_a_schedule_id_becomes_a_kubernetes_name() -> None:
    assert default_name("Legacy_Report.v2") == "legacy-report-v2"
    assert default_name("x" * 100) == "x" * 63
    assert default_name("__") == "imported"


@pytest.mark.parametrize("bad", ["Upper", "a.b", "-x", "x" * 64, ""])
def test_a_bad_name_or_namespace_is_refused_naming_the_flag(bad: str) -> None:
    with pytest.raises(CommandError, match=r"-n .* is not a Kubernetes name") as refused:
        checked_name(bad, "-n")
    assert refused.value.code == 2


def test_the_cli_refuses_a_bad_name_with_exit_2(capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def leave(code: int) -> None:  # exit_now is os._exit, which would end pytest itself
        raise SystemExit(code)
    monkeypatch.setattr(import_schedule, "exit_now", leave)
    with pytest.raises(SystemExit) as leaving:
        main(["import", "legacy", "-n", "team", "--name", "Bad.Name"])
    assert leaving.value.code == 2
    assert "--name 'Bad.Name' is not a Kubernetes name" in capsys.readouterr().err


def test_the_document_carries_the_adopt_annotation_and_the_notes() -> None:
    text = document("legacy", "team", "legacy", {"schedule": "0 * * * *"}, ["runs get new IDs"])
    assert text.splitlines()[2] == "# Note: runs get new IDs"
    resource = yaml.safe_load(text)
    assert resource["metadata"] == {"name": "legacy", "namespace": "team",
                                    "annotations": {"sundial.dev/adopt": "legacy"}}
    assert (resource["apiVersion"], resource["kind"], resource["spec"]) == (
        "sundial.dev/v1alpha1", "Schedule", {"schedule": "0 * * * *"})
