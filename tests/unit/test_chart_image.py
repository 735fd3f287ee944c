"""The image recipe, checked statically (no container engine on these machines).

The install steps themselves are replayed in tests/e2e/test_install_image.py.
"""

from __future__ import annotations

import json
import re

from tests.support.containerfile import parse, resolve


def test_two_stages_the_final_one_on_a_pinned_slim_python_3_11() -> None:
    args, stages = parse()
    assert len(stages) == 2
    final = resolve(stages[-1].base, args)
    assert re.fullmatch(r"docker\.io/library/python:3\.11\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", final), final


def test_the_final_stage_runs_as_a_numeric_user_with_sundial_run_in_exec_form() -> None:
    _, stages = parse()
    final = dict(stages[-1].instructions)
    assert re.fullmatch(r"\d+(:\d+)?", final["USER"]) and not final["USER"].startswith("0")
    assert json.loads(final["ENTRYPOINT"]) == ["sundial", "run"]


def test_the_final_stage_installs_the_wheel_without_build_tools_and_has_tzdata() -> None:
    _, stages = parse()
    wheel, final = stages
    assert "pip wheel" in wheel.steps["wheel"]
    install = final.steps["install"]
    assert "/dist/*.whl" in install and "tzdata" in install and "uninstall --yes pip" in install
    assert f"--from={wheel.name}" in " ".join(rest for ins, rest in final.instructions if ins == "COPY")
    assert not re.search(r"\b(gcc|build-essential|apt-get|python -m build|setuptools)\b", install)


def test_the_parser_sees_a_root_user_and_a_floating_tag() -> None:
    """The checks above can fail: a recipe with USER root and python:3.11-slim is told apart."""
    args, stages = parse("ARG B=docker.io/library/python:3.11-slim\nFROM ${B}\nUSER root\n")
    assert not re.fullmatch(r"docker\.io/library/python:3\.11\.\d+-slim-\w+", resolve(stages[0].base, args))
    assert not re.fullmatch(r"\d+(:\d+)?", dict(stages[0].instructions)["USER"])
