"""The image's install steps, replayed outside a container engine (none exists on these machines).

The `# step:` RUN commands of deploy/Containerfile run as written, with /src, /dist and
/opt/sundial moved to a temporary folder: the wheel is built from a copy of the sources, then
installed into a clean venv beside tzdata, pip is removed, and both entry points start.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.containerfile import parse

REPO = Path(__file__).resolve().parents[2]


def replay(command: str, root: Path, cwd: Path) -> None:
    for path in ("/src", "/dist", "/opt/sundial"):
        command = command.replace(path, str(root / path.strip("/").replace("/", "-")))
    python = os.path.realpath(sys.executable)  # the interpreter, not this checkout's venv
    command = command.replace("python -m", f"{python} -m")
    result = subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=600,
                            env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(root)})
    assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"


def test_the_wheel_installs_into_a_clean_venv_and_both_commands_start(tmp_path: Path) -> None:
    _, (wheel, final) = parse()
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):  # what the recipe COPYs
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "operator", src / "operator", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    replay(wheel.steps["wheel"], tmp_path, src)
    assert [p.name for p in (tmp_path / "dist").glob("sundial-*.whl")]
    replay(final.steps["install"], tmp_path, tmp_path)

    venv = tmp_path / "opt-sundial" / "bin"
    assert not (venv / "pip").exists(), "pip is still in the image"
    env = {"PATH": f"{venv}:/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONTZPATH": ""}  # no system zoneinfo
    for command in (["sundial", "run", "--help"], ["sundial", "worker", "--help"]):
        started = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert started.returncode == 0, started.stderr
        assert started.stdout.startswith(f"usage: sundial {command[1]}")
    zone = subprocess.run([str(venv / "python"), "-c", "import zoneinfo; print(zoneinfo.ZoneInfo('Asia/Tokyo'))"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert zone.stdout.strip() == "Asia/Tokyo", zone.stderr
