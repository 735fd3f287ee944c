"""The ``sundial`` command line (also installed as the kubectl plugin ``kubectl-sundial``).

Each subcommand lives in the module that owns its work; this file only wires them.
A module contributes ``add_parser(subparsers)``, which registers its parser and sets
``func(args) -> int`` as the parser default.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys

from sundial.commands import backfill, control_plane, crd, dev, import_schedule, run, runs, schedule_actions
from sundial.worker import command as worker_command

#: Modules that contribute subcommands, in the order ``--help`` lists them.
COMMAND_MODULES = (run, dev, control_plane, crd, schedule_actions, backfill, import_schedule, runs,
                   worker_command)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sundial",
        description="Sundial keeps Kubernetes Schedule resources and Temporal schedules in step.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
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


def program() -> None:
    """The program's entry point: ``main``, flushed output, then exit without interpreter finalization.

    The Temporal client's native runtime keeps threads that may call into Python while the
    interpreter finalizes; that race once aborted a ``sundial runs history`` whose output was
    complete (``PyGILState_Release``, exit status -6). Nothing is left to do at that point, so
    the process leaves with ``os._exit`` and the command's own exit code.
    """
    code = main()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more can be said
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    program()
