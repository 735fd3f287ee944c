"""Argo CD's health check and resource actions for Schedules, run as Argo CD runs them.

deploy/argocd/sundial.dev/Schedule/ is in the layout of Argo CD's built-in checks
(resource_customizations/<group>/<kind>/): health.lua with health_test.yaml and testdata/,
actions/discovery.lua, actions/<name>/action.lua and actions/action_test.yaml. This harness
reads those test files and runs the scripts in Lua 5.1 (Argo CD's gopher-lua implements 5.1)
from the PyPI `lupa` package, in a sandbox like Argo CD's: no io, no loading of code, and an
`os` with only date and time (fixed at 2026-12-01T00:00:00Z so outputs compare exactly).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from lupa import lua51

CHECKS = Path(__file__).resolve().parents[2] / "deploy" / "argocd" / "sundial.dev" / "Schedule"
FIXED_NOW = 1796083200  # 2026-12-01T00:00:00Z

_SANDBOX = f"""
local real_date, real_time = os.date, os.time
os = {{date = function(fmt, t) return real_date(fmt, t or {FIXED_NOW}) end,
       time = function(t) if t == nil then return {FIXED_NOW} end return real_time(t) end}}
io, require, dofile, loadfile, load, loadstring, module, package, debug = nil
"""


def run_script(path: Path, obj: dict[str, Any]) -> Any:
    """Run one Argo CD Lua script with ``obj`` as its global; the returned table as Python data."""
    lua = lua51.LuaRuntime(unpack_returned_tuples=True, register_eval=False)
    lua.execute(_SANDBOX)
    lua.globals().obj = lua.table_from(obj, recursive=True)
    return to_python(lua.execute(path.read_text()))


def to_python(value: Any) -> Any:
    """Lua values back to JSON-like data; a whole number becomes an int, as Argo CD converts it."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if lua51.lua_type(value) != "table":
        return value
    keys = list(value.keys())
    if keys and all(isinstance(k, int) for k in keys) and sorted(keys) == list(range(1, len(keys) + 1)):
        return [to_python(value[k]) for k in sorted(keys)]
    return {k: to_python(v) for k, v in value.items()}


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


HEALTH_CASES = load(CHECKS / "health_test.yaml")["tests"]
ACTIONS = load(CHECKS / "actions" / "action_test.yaml")


def test_there_are_at_least_nine_health_cases_covering_every_status() -> None:
    assert len(HEALTH_CASES) >= 9
    assert {case["healthStatus"]["status"] for case in HEALTH_CASES} == {
        "Progressing", "Healthy", "Suspended", "Degraded"}


@pytest.mark.parametrize("case", HEALTH_CASES, ids=[Path(c["inputPath"]).stem for c in HEALTH_CASES])
def test_health(case: dict[str, Any]) -> None:
    obj = load(CHECKS / case["inputPath"])
    assert run_script(CHECKS / "health.lua", obj) == case["healthStatus"]


@pytest.mark.parametrize("case", ACTIONS["discoveryTests"], ids=lambda c: Path(c["inputPath"]).stem)
def test_action_discovery(case: dict[str, Any]) -> None:
    obj = load(CHECKS / "actions" / case["inputPath"])
    found = run_script(CHECKS / "actions" / "discovery.lua", obj)
    assert sorted(({"name": name, **attrs} for name, attrs in found.items()), key=lambda a: a["name"]) == \
        case["result"]


@pytest.mark.parametrize("case", ACTIONS["actionTests"], ids=lambda c: f"{c['action']}-{Path(c['inputPath']).stem}")
def test_action(case: dict[str, Any]) -> None:
    obj = load(CHECKS / "actions" / case["inputPath"])
    result = run_script(CHECKS / "actions" / case["action"] / "action.lua", obj)
    assert result == load(CHECKS / "actions" / case["expectedOutputPath"])


def test_the_harness_runs_lua_5_1_without_io() -> None:
    lua = lua51.LuaRuntime()
    lua.execute(_SANDBOX)
    assert lua.eval("_VERSION") == "Lua 5.1"
    assert lua.eval("io") is None and lua.eval("loadstring") is None


def test_a_wrong_expectation_fails() -> None:
    """The comparison can fail: a Healthy object is not reported Degraded."""
    healthy = load(CHECKS / "testdata" / "healthy.yaml")
    assert run_script(CHECKS / "health.lua", healthy)["status"] != "Degraded"
