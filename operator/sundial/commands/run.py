"""``sundial run``: the operator. Settings are checked before kopf starts."""

from __future__ import annotations

import argparse
import logging
import sys

from sundial.errors import SettingsError
from sundial.settings import load_settings


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("run", help="run the operator")
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("-n", "--namespace", action="append", default=[], metavar="NS",
                       help="watch this namespace (repeatable); default: all namespaces")
    scope.add_argument("-A", "--all-namespaces", action="store_true", help="watch every namespace (default)")
    parser.add_argument("--liveness-port", type=int, default=8080, help="serves /healthz (0: off)")
    parser.add_argument("--metrics-port", type=int, default=9090, help="serves /metrics (0: off)")
    parser.add_argument("--log-format", choices=["text", "json"], default="text")
    parser.add_argument("--verbose", action="store_true")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"sundial: bad setting: {exc}", file=sys.stderr)
        return 2
    from sundial.controller.main import OperatorOptions, run_operator

    options = OperatorOptions(
        namespaces=tuple(args.namespace),
        liveness_port=args.liveness_port,
        metrics_port=args.metrics_port,
        log_format=args.log_format,
        log_level=logging.DEBUG if args.verbose else logging.INFO,
    )
    run_operator(settings, options)
    return 0
