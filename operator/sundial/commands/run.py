"""``sundial run``: the operator. Settings are checked before kopf starts."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import re
import sys
from pathlib import Path
from typing import Any

from sundial.errors import SettingsError
from sundial.settings import Settings, load_settings

NAMESPACE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")  # an RFC 1123 label


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("run", help="run the operator")
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("-n", "--namespace", action="append", default=[], metavar="NS",
                       help="watch this namespace (repeatable); default: all namespaces")
    scope.add_argument("-A", "--all-namespaces", action="store_true", help="watch every namespace (default)")
    parser.add_argument("--liveness-port", type=int, default=8080, help="serves /healthz (0: off)")
    parser.add_argument("--metrics-port", type=int, default=9090, help="serves /metrics (0: off)")
    parser.add_argument("--webhook-port", type=int, metavar="PORT",
                        help="HTTPS port of the admission webhooks /validate and /mutate (default: "
                             "SUNDIAL_WEBHOOK_PORT or 9443; 0: off). Needs a certificate and key")
    parser.add_argument("--webhook-cert", type=Path, metavar="FILE",
                        help="serving certificate, PEM (default: SUNDIAL_WEBHOOK_CERT_FILE); reloaded when it changes")
    parser.add_argument("--webhook-key", type=Path, metavar="FILE",
                        help="its private key, PEM (default: SUNDIAL_WEBHOOK_KEY_FILE)")
    parser.add_argument("--log-format", choices=["text", "json"], default="text")
    parser.add_argument("--verbose", action="store_true")
    parser.set_defaults(func=_run)


def with_webhook_flags(settings: Settings, args: argparse.Namespace) -> Settings:
    """The webhook flags, where given, win over the settings from the environment."""
    changes: dict[str, Any] = {}
    if args.webhook_port is not None:
        if not 0 <= args.webhook_port <= 65535:
            raise SettingsError(f"--webhook-port {args.webhook_port} is not a TCP port (0-65535)")
        changes["webhook_port"] = args.webhook_port
    for flag, name in (("webhook_cert", "webhook_cert_file"), ("webhook_key", "webhook_key_file")):
        path: Path | None = getattr(args, flag)
        if path is not None:
            if not path.is_file():
                raise SettingsError(f"--{flag.replace('_', '-')} {str(path)!r}: no such file")
            changes[name] = path
    settings = dataclasses.replace(settings, **changes)
    if (settings.webhook_cert_file is None) != (settings.webhook_key_file is None):
        raise SettingsError("the webhook certificate and key must be given together (--webhook-cert, --webhook-key)")
    return settings


def watched_namespaces(names: list[str]) -> tuple[str, ...]:
    """``--namespace`` values as namespace names. kopf would read ``team-*`` as a pattern, but the
    operator counts each watched namespace's Schedules by name before it decides a quota, and
    would wait forever on a name the apiserver cannot serve."""
    for name in names:
        if not NAMESPACE_NAME.fullmatch(name):
            raise SettingsError(f"--namespace {name!r} is not a namespace name (lowercase letters, digits "
                                "and '-', at most 63, starting and ending alphanumeric; patterns are not supported)")
    return tuple(names)


def _run(args: argparse.Namespace) -> int:
    try:
        settings = with_webhook_flags(load_settings(), args)
        namespaces = watched_namespaces(args.namespace)
    except SettingsError as exc:
        print(f"sundial: bad setting: {exc}", file=sys.stderr)
        return 2
    from sundial.controller.main import OperatorOptions, run_operator

    options = OperatorOptions(
        namespaces=namespaces,
        liveness_port=args.liveness_port,
        metrics_port=args.metrics_port,
        log_format=args.log_format,
        log_level=logging.DEBUG if args.verbose else logging.INFO,
    )
    run_operator(settings, options)
    return 0
