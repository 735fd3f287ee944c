"""``sundial control-plane``: build (or find in the cache) every binary of the local stack."""

from __future__ import annotations

import argparse
import sys
import time

from sundial.devstack.build import BuildError, cache_root, ensure_binaries


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "control-plane",
        help="build kube-apiserver, etcd and helm from Go modules (cached) and print where they are",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    try:
        binaries = ensure_binaries()
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(binaries.describe())
    print(f"cache: {cache_root()}  ({time.monotonic() - started:.1f}s)")
    return 0
