"""deploy/Containerfile read as data: its stages and the RUN steps a test replays without an engine."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

CONTAINERFILE = Path(__file__).resolve().parents[2] / "deploy" / "Containerfile"


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)  # (INSTRUCTION, arguments)
    steps: dict[str, str] = field(default_factory=dict)  # `# step: NAME` -> the RUN command after it


def parse(text: str | None = None) -> tuple[dict[str, str], list[Stage]]:
    """(ARG defaults, stages); continuation lines are joined."""
    text = CONTAINERFILE.read_text() if text is None else text
    args: dict[str, str] = {}
    stages: list[Stage] = []
    step: str | None = None
    for line in re.sub(r"\\\n\s*", " ", text).splitlines():
        line = line.strip()
        marker = re.match(r"#\s*step:\s*(\S+)", line)
        if marker:
            step = marker.group(1)
            continue
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "ARG" and not stages:
            key, _, value = rest.partition("=")
            args[key] = value
        elif instruction == "FROM":
            base, _, name = rest.partition(" AS ")
            stages.append(Stage(base.strip(), name.strip() or None))
        else:
            stages[-1].instructions.append((instruction, rest))
            if instruction == "RUN" and step:
                stages[-1].steps[step] = rest
        step = None if instruction == "RUN" else step
    return args, stages


def resolve(base: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], base)
