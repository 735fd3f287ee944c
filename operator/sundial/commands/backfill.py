"""``sundial backfill NAME --from T --to T``: run a schedule's missed times in a range, once.

Like ``sundial trigger``, the command talks to Kubernetes only: it writes the request into
the annotation ``sundial.dev/backfill-requested`` and waits for the operator, which asks
Temporal and acknowledges the request in ``status.requests`` (``docs/backfill.md``). It
counts the runs first with the same rules the operator applies, so a range over
``--max-runs`` or over the remaining budget is refused before anything is written.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime

from sundial.adapters.kube import BACKFILL_ANNOTATION, KubeGateway, load_api_client
from sundial.commands.schedule_actions import TIMEOUT, CommandError, _sync, current_namespace, request_token
from sundial.domain.backfill import (
    DEFAULT_MAX_RUNS,
    DEFAULT_OVERLAP,
    MAX_RUNS_LIMIT,
    BackfillInvalid,
    make_request,
    parse_time,
    plan_for_resource,
)
from sundial.domain.desired import OVERLAP_POLICIES
from sundial.domain.status import status_of


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("backfill", help="run a schedule's missed times in a range now")
    parser.add_argument("name", help="the Schedule's name")
    parser.add_argument("-n", "--namespace", help="its namespace (default: the kubeconfig context's)")
    parser.add_argument("--from", dest="start", required=True, help="first time of the range (RFC 3339, included)")
    parser.add_argument("--to", dest="end", required=True, help="end of the range (RFC 3339, excluded)")
    parser.add_argument("--overlap", choices=OVERLAP_POLICIES, default=DEFAULT_OVERLAP,
                        help=f"overlap policy of the backfilled runs (default {DEFAULT_OVERLAP})")
    parser.add_argument("--max-runs", type=int, default=DEFAULT_MAX_RUNS,
                        help=f"refuse a range that would start more runs (default {DEFAULT_MAX_RUNS}, "
                             f"at most {MAX_RUNS_LIMIT})")
    parser.add_argument("--timeout", type=float, default=TIMEOUT,
                        help=f"seconds to wait for the operator (default {TIMEOUT:g})")
    parser.set_defaults(func=lambda args: _sync(_backfill(args)))


async def _backfill(args: argparse.Namespace) -> int:
    namespace = args.namespace or current_namespace()
    where = f"{namespace}/{args.name}"
    try:
        request = make_request(parse_time("--from", args.start), parse_time("--to", args.end), args.overlap,
                               args.max_runs, request_token())
    except BackfillInvalid as exc:
        raise CommandError(str(exc).replace("maxRuns", "--max-runs"), 2) from exc
    kube = KubeGateway(load_api_client())
    try:
        planned = plan_for_resource(request, await kube.get_schedule(namespace, args.name), datetime.now(UTC))
    except BackfillInvalid as exc:
        raise CommandError(f"backfill of {where} refused, nothing started: {exc}".replace("maxRuns", "--max-runs"),
                           1) from exc
    value = request.encode()
    await kube.patch_schedule(namespace, args.name, {"metadata": {"annotations": {BACKFILL_ANNOTATION: value}}})
    result = await _wait_for_result(kube, namespace, args.name, value, args.timeout)
    if result is None:
        raise CommandError(f"backfill of {where} requested ({len(planned.runs)} runs); the operator has not "
                           f"confirmed within {args.timeout:g}s")
    if not result.startswith("started"):
        raise CommandError(f"backfill of {where}: {result}")
    print(f"backfill of {where}: {result} ({args.start} to {args.end}, overlap {args.overlap})")
    return 0


async def _wait_for_result(kube: KubeGateway, namespace: str, name: str, value: str,
                           wait_seconds: float) -> str | None:
    """``status.requests.backfillResult`` once the operator acknowledged ``value``; None on timeout."""
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        requests = status_of(await kube.get_schedule(namespace, name)).get("requests") or {}
        if requests.get("backfill") == value:
            return str(requests.get("backfillResult") or "")
        await asyncio.sleep(0.3)
    return None
