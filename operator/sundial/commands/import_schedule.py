"""``sundial import TEMPORAL_SCHEDULE_ID [-n NS] [--name NAME]``: a Schedule for an existing schedule.

Reads the Temporal schedule (Temporal access, like ``sundial runs``) and prints the
equivalent ``Schedule`` as YAML with the annotation ``sundial.dev/adopt: <id>``; applying
it makes the operator take the schedule over under the same ID (``docs/adoption.md``).
What a ``Schedule`` cannot say (several calendars, intervals, exclusions, another kind of
action, ...) is refused with every reason, and so is a schedule another owner's memo claims.
Changes the YAML makes are listed as comments at its top.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Any

import yaml

from sundial.adapters.kube import GROUP, KIND, VERSION
from sundial.adapters.temporal import TemporalGateway
from sundial.commands.schedule_actions import CommandError, _sync, current_namespace
from sundial.domain.adoption import (
    ADOPT_ANNOTATION,
    ForeignSchedule,
    NotExpressible,
    adoption_refusal,
    spec_from_foreign,
)
from sundial.domain.cron import InvalidCronExpression
from sundial.domain.desired import ScheduleIdentity
from sundial.domain.models import ScheduleSpec
from sundial.domain.schedule_rules import spec_whens
from sundial.errors import SpecInvalid, SundialError, TemporalError
from sundial.settings import load_settings
from sundial.worker.command import exit_now

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
MAX_NAME = 63


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("import", help="print a Schedule that adopts an existing Temporal schedule")
    parser.add_argument("schedule_id", metavar="TEMPORAL_SCHEDULE_ID", help="the Temporal schedule's ID")
    parser.add_argument("-n", "--namespace", help="the Schedule's namespace (default: the kubeconfig context's)")
    parser.add_argument("--name", help="the Schedule's name (default: derived from the schedule ID)")
    parser.add_argument("--address", help="Temporal host:port (default: $SUNDIAL_TEMPORAL_ADDRESS)")
    parser.add_argument("--temporal-namespace", help="Temporal namespace (default: $SUNDIAL_TEMPORAL_NAMESPACE)")
    # exit_now: the Temporal SDK's threads abort CPython's finalization otherwise (exit -6)
    parser.set_defaults(func=lambda args: exit_now(_sync(_import(args))))


def default_name(schedule_id: str) -> str:
    """A Kubernetes name from a schedule ID: lower case, other characters as '-', at most 63."""
    name = re.sub(r"[^a-z0-9]+", "-", schedule_id.lower()).strip("-")[:MAX_NAME].rstrip("-")
    return name or "imported"


def checked_name(name: str, flag: str = "--name") -> str:
    """A DNS label (what both a Schedule's name and its namespace must be); CommandError, exit 2, otherwise."""
    if len(name) > MAX_NAME or not _NAME.match(name):
        raise CommandError(f"{flag} {name!r} is not a Kubernetes name (lower-case letters, digits and '-', "
                           f"at most {MAX_NAME} characters)", 2)
    return name


def document(schedule_id: str, namespace: str, name: str, spec: dict[str, Any], notes: list[str]) -> str:
    """The YAML printed: comments (what changes), then the resource."""
    header = [f"# Imported from Temporal schedule {schedule_id} by sundial import.",
              "# Applying it makes Sundial take that schedule over under the same ID (docs/adoption.md).",
              *(f"# Note: {note}" for note in notes)]
    resource = {"apiVersion": f"{GROUP}/{VERSION}", "kind": KIND,
                "metadata": {"name": name, "namespace": namespace, "annotations": {ADOPT_ANNOTATION: schedule_id}},
                "spec": spec}
    return "\n".join(header) + "\n" + yaml.safe_dump(resource, sort_keys=False, allow_unicode=True)


async def _import(args: argparse.Namespace) -> int:
    namespace = checked_name(args.namespace or current_namespace(), "-n")
    name = checked_name(args.name) if args.name else default_name(args.schedule_id)
    foreign = await _read(args)
    # the cluster ID is not known here: a memo naming any Sundial resource is refused
    refusal = adoption_refusal(args.schedule_id, foreign.memo, ScheduleIdentity("?", namespace, name, ""))
    if refusal is not None:
        raise CommandError(f"Temporal schedule {args.schedule_id} cannot be adopted: {refusal}")
    try:
        spec, notes = spec_from_foreign(foreign)
        spec_whens(ScheduleSpec.from_body(spec))
    except (NotExpressible, SpecInvalid, InvalidCronExpression) as exc:
        raise CommandError(str(exc)) from exc
    sys.stdout.write(document(args.schedule_id, namespace, name, spec, notes))
    return 0


async def _read(args: argparse.Namespace) -> ForeignSchedule:
    """The schedule as plain values (Temporal's describe)."""
    try:
        settings = load_settings()
    except SundialError as exc:
        raise CommandError(str(exc), 2) from exc
    address = args.address or settings.temporal_address
    temporal_namespace = (args.temporal_namespace or os.environ.get("SUNDIAL_TEMPORAL_NAMESPACE")
                          or settings.temporal_namespace)
    try:
        gateway = await TemporalGateway.connect(
            address, temporal_namespace, api_key=settings.temporal_api_key, tls_cert=settings.temporal_tls_cert,
            tls_key=settings.temporal_tls_key, tls_ca=settings.temporal_tls_ca, max_retry_seconds=5)
        return await gateway.describe_foreign(args.schedule_id)
    except TemporalError as exc:
        raise CommandError(f"Temporal: {exc}") from exc
