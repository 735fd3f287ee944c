"""``sundial crd``: print the Schedule CRD generated from the models (``kubectl apply -f -``)."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("crd", help="print the Schedule CustomResourceDefinition as YAML")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from sundial.domain.crd import crd_yaml

    print(crd_yaml(), end="")
    return 0
