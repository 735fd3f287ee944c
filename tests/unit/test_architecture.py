"""The import rules of docs/architecture.md, checked on the source with ``ast`` (no import runs).

Each part of ``operator/sundial`` may import only the parts listed for it; a new part must be
added here and to the page. TYPE_CHECKING imports count too: a type is a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "operator" / "sundial"

#: part -> the parts it may import (the diagram in docs/architecture.md).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "logs": set(),
    "settings": {"errors"},
    "domain": {"errors"},
    "ports": {"domain"},
    "adapters": {"domain", "errors"},
    "controller": {"domain", "ports", "adapters", "settings", "errors", "logs"},
    "worker": {"domain", "errors", "settings"},
    "devstack": {"domain", "errors"},
    "commands": {"domain", "adapters", "controller", "devstack", "settings", "errors", "logs", "worker"},
    "cli": {"commands", "worker"},
    "reference": {"domain", "settings", "cli"},
    "__init__": set(),
}


def part_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE).with_suffix("").parts
    return relative[0]


def sundial_imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, part) for every import of another part of sundial in one module."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = ([f"{node.module}.{alias.name}" for alias in node.names] if node.module == "sundial"
                     else [node.module])
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "sundial" and len(parts) > 1:
                yield node.lineno, parts[1]


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_part_has_rules() -> None:
    assert {part_of(path) for path in MODULES} <= set(ALLOWED), "add the new part to ALLOWED and the page"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_imports_only_what_its_part_may(path: Path) -> None:
    part = part_of(path)
    wrong = [f"line {line}: sundial.{target}" for line, target in sundial_imports(path)
             if target != part and target not in ALLOWED[part]]
    assert not wrong, f"{part} may import only {sorted(ALLOWED[part])}; {path.name} imports " + ", ".join(wrong)


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("from sundial.controller.context import OperatorContext\nfrom sundial import adapters\n")
    assert [target for _, target in sundial_imports(module)] == ["controller", "adapters"]
