"""The ``sundial`` command line (also installed as the kubectl plugin ``kubectl-sundial``).

Each subcommand lives in the module that owns its work; this file only wires them.
A module contributes ``add_parser(subparsers)``, which registers its parser and sets
``func(args) -> int`` as the parser default.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: Modules that contribute subcommands, in the order ``--help`` lists them.
_COMMAND_MODULES = (
    "sundial.commands.run",
    "sundial.commands.dev",
    "sundial.commands.control_plane",
    "sundial.commands.crd",
    "sundial.commands.schedule_actions",
    "sundial.commands.runs",
    "sundial.worker.command",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sundial",
        description="Sundial keeps Kubernetes Schedule resources and Temporal schedules in step.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # a command whose module is not built yet
        module.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
