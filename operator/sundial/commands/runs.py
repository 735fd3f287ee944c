"""``sundial runs NAME``: a schedule's run history from Temporal, with the cost of the selection.

The resource says which Temporal schedule it is (``status.temporal.scheduleId``, or the
deterministic ID when the status has none yet); the runs come from Temporal itself, so
they include runs the status no longer lists. Runs are listed newest first (by start
time, then run ID); ``--status`` and ``--since``/``--until`` (on the start time, RFC 3339
or relative such as ``30m``, ``3h``, ``7d``, ``2w``) select, ``--page``/``--page-size``
(1-based; default 20, at most 100) page through the selection. Each closed run's cost,
tokens, model and error come from its close event: one Temporal call per closed run of
the selection (the footer sums the whole selection, not just the page).

``-o json`` prints one object, stable across releases (keys are only ever added)::

    {"schedule": {"namespace", "name", "scheduleId", "temporalNamespace"},
     "filter":   {"status": str|null, "since": RFC3339|null, "until": RFC3339|null},
     "page": int, "pageSize": int, "pages": int,
     "runs": [{"workflowId", "runId", "status", "scheduledTime", "startedAt", "closedAt",
               "durationMs", "costUSD", "totalTokens", "model", "provider", "error"}, ...],
     "selection": {"count": int, "costUSD": float, "runsWithoutCost": int}}

Run keys are those of ``status.recentRuns``; every key is present, ``null`` when unknown
(an open run has no ``closedAt``; a timed-out run reports no cost). ``status`` is
Temporal's: RUNNING, COMPLETED, FAILED, TIMED_OUT, TERMINATED, CANCELED (a failed
attempt that was retried is listed as FAILED, with its cost). Exit codes: 0, 1 when the
Schedule or Temporal cannot be read, 2 for a bad argument; errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sundial.adapters.kube import KubeGateway, ScheduleResourceNotFound, load_api_client
from sundial.adapters.temporal import TemporalGateway
from sundial.adapters.temporal_runs import MAX_PAGE_SIZE, STATUS_FILTERS, TemporalRuns
from sundial.commands.schedule_actions import current_namespace
from sundial.domain.desired import ScheduleIdentity
from sundial.domain.run_records import RunInfo, closed_run, run_record
from sundial.domain.status import rfc3339
from sundial.errors import SundialError, TemporalError
from sundial.settings import load_settings

DEFAULT_PAGE_SIZE, MAX_CLI_PAGE_SIZE = 20, 100
_RELATIVE = re.compile(r"^([0-9]+)(s|m|h|d|w)$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class UsageError(ValueError):
    """A bad argument (exit code 2)."""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    runs = subparsers.add_parser("runs", help="a schedule's run history from Temporal, with its cost",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    runs.add_argument("name", help="the Schedule's name")
    runs.add_argument("-n", "--namespace", help="its namespace (default: the kubeconfig context's)")
    runs.add_argument("--status", help="only runs with this status: " + "|".join(STATUS_FILTERS))
    runs.add_argument("--since", help="runs started at or after: RFC 3339, or relative (30m, 3h, 7d, 2w)")
    runs.add_argument("--until", help="runs started before: RFC 3339, or relative")
    runs.add_argument("--page", default="1", help="page of the selection, from 1 (default 1)")
    runs.add_argument("--page-size", default=str(DEFAULT_PAGE_SIZE),
                      help=f"runs per page, 1 to {MAX_CLI_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE})")
    runs.add_argument("-o", "--output", default="table", help="table or json")
    runs.add_argument("--address", help="Temporal host:port (default: $SUNDIAL_TEMPORAL_ADDRESS)")
    runs.add_argument("--temporal-namespace", help="Temporal namespace (default: $SUNDIAL_TEMPORAL_NAMESPACE, "
                                                   "else the one in the Schedule's status)")
    runs.set_defaults(func=main)


@dataclass(frozen=True)
class Query:
    """The validated selection."""

    status: str | None
    since: datetime | None
    until: datetime | None
    page: int
    page_size: int
    output: str


def parse_when(text: str, now: datetime, flag: str) -> datetime:
    """RFC 3339 (``2026-11-20T09:00:00Z``, an offset, or a date) or relative to ``now`` (``7d``)."""
    relative = _RELATIVE.match(text.strip())
    if relative:
        return now - timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(f"{flag} {text!r} is neither RFC 3339 (2026-11-20T09:00:00Z) nor relative "
                         f"(30m, 3h, 7d, 2w)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _positive(text: str, flag: str, most: int | None = None) -> int:
    if not text.strip().isdigit() or int(text) < 1 or (most is not None and int(text) > most):
        bound = f"from 1 to {most}" if most else "at least 1"
        raise UsageError(f"{flag} {text!r} must be a whole number {bound}")
    return int(text)


def parse_query(args: argparse.Namespace, now: datetime) -> Query:
    """Check every argument; the first bad one raises UsageError with one line."""
    status = args.status.strip().lower() if args.status else None
    if status is not None and status not in STATUS_FILTERS:
        raise UsageError(f"--status {args.status!r} is not one of {'|'.join(STATUS_FILTERS)}")
    since = parse_when(args.since, now, "--since") if args.since else None
    until = parse_when(args.until, now, "--until") if args.until else None
    if since and until and since >= until:
        raise UsageError(f"--since {rfc3339(since)} is not before --until {rfc3339(until)}")
    if args.output not in ("table", "json"):
        raise UsageError(f"-o {args.output!r} must be table or json")
    return Query(status, since, until, _positive(args.page, "--page"),
                 _positive(args.page_size, "--page-size", MAX_CLI_PAGE_SIZE), args.output)


def page_bounds(count: int, page: int, size: int) -> tuple[int, int, int]:
    """(start, end, pages) of a 1-based page; UsageError past the last page (page 1 always exists)."""
    pages = max(1, math.ceil(count / size))
    if page > pages:
        raise UsageError(f"--page {page} is past the last page ({pages}: {count} runs, {size} per page)")
    start = (page - 1) * size
    return start, min(start + size, count), pages


def newest_first(runs: Sequence[RunInfo]) -> list[RunInfo]:
    """By start time, newest first; run ID breaks ties (a stable order for paging)."""
    return sorted({r.run_id: r for r in runs}.values(), key=lambda r: (r.started_at, r.run_id), reverse=True)


async def collect(runs: TemporalRuns, schedule_id: str, query: Query) -> dict[str, Any]:
    """The selection as the JSON document (without ``schedule``): list all, read closed runs' outcomes."""
    listed: list[RunInfo] = []
    token: bytes | None = None
    while True:
        page = await runs.list_runs(schedule_id, query.status, query.since, query.until, MAX_PAGE_SIZE, token)
        listed += page.runs
        token = page.next_page_token
        if token is None:
            break
    selection = newest_first(listed)
    start, end, pages = page_bounds(len(selection), query.page, query.page_size)
    closed = [r for r in selection if r.closed_at is not None]
    outcomes = await asyncio.gather(*(runs.run_outcome(r.workflow_id, r.run_id) for r in closed))
    joined = {r.run_id: closed_run(r, o) for r, o in zip(closed, outcomes, strict=True)}
    costs = [j.cost_usd for j in joined.values()]
    return {
        "filter": {"status": query.status, "since": _time(query.since), "until": _time(query.until)},
        "page": query.page, "pageSize": query.page_size, "pages": pages,
        "runs": [run_record(joined.get(r.run_id) or r) for r in selection[start:end]],
        "selection": {"count": len(selection), "costUSD": round(sum(c or 0.0 for c in costs), 6),
                      "runsWithoutCost": sum(1 for c in costs if c is None) + len(selection) - len(closed)},
    }


def _time(moment: datetime | None) -> str | None:
    return rfc3339(moment) if moment else None


def duration_text(ms: int | None) -> str:
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms}ms"
    seconds = ms // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return "".join(f"{v}{u}" for v, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if v) or "0s"


def render_table(document: dict[str, Any]) -> str:
    """Columns for people; ``-o json`` for programs."""
    header = ("WORKFLOW ID", "STATUS", "SCHEDULED", "STARTED", "CLOSED", "DURATION", "COST", "TOKENS", "MODEL",
              "ERROR")
    rows = [header] + [(
        r["workflowId"], r["status"], r["scheduledTime"] or "-", r["startedAt"] or "-", r["closedAt"] or "-",
        duration_text(r["durationMs"]), "-" if r["costUSD"] is None else f"${r['costUSD']:.4f}",
        "-" if r["totalTokens"] is None else str(r["totalTokens"]), r["model"] or "-",
        _short(r["error"]) if r["error"] else "-") for r in document["runs"]]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    selection, size, page = document["selection"], document["pageSize"], document["page"]
    first = (page - 1) * size + 1 if document["runs"] else 0
    shown = f"runs {first}-{first + len(document['runs']) - 1}" if document["runs"] else "no runs"
    unknown = f" ({selection['runsWithoutCost']} without a reported cost)" if selection["runsWithoutCost"] else ""
    lines.append(f"{shown} of {selection['count']} (page {page} of {document['pages']}); "
                 f"cost of all {selection['count']}: ${selection['costUSD']:.4f}{unknown}")
    return "\n".join(lines)


def _short(text: str, width: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def main(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_runs(args))
    except UsageError as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except (ScheduleResourceNotFound, SundialError) as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 1


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


async def _runs(args: argparse.Namespace) -> int:
    query = parse_query(args, datetime.now(UTC))
    try:
        settings = load_settings()
    except SundialError as exc:
        raise UsageError(str(exc)) from exc
    namespace = args.namespace or current_namespace()
    try:
        kube = KubeGateway(load_api_client())
        body = await kube.get_schedule(namespace, args.name)
        temporal_ref = (body.get("status") or {}).get("temporal") or {}
        schedule_id = temporal_ref.get("scheduleId") or ScheduleIdentity(
            settings.cluster_id or await kube.cluster_uid(), namespace, args.name, body["metadata"]["uid"]
        ).schedule_id
    except (ScheduleResourceNotFound, SundialError):
        raise
    except Exception as exc:  # kubeconfig, RBAC, connection: one line, not a traceback
        raise SundialError(f"cannot read schedule {namespace}/{args.name}: {exc}") from exc
    address = args.address or settings.temporal_address
    temporal_namespace = (args.temporal_namespace or os.environ.get("SUNDIAL_TEMPORAL_NAMESPACE")
                          or temporal_ref.get("namespace") or settings.temporal_namespace)
    try:
        gateway = await TemporalGateway.connect(
            address, temporal_namespace, api_key=settings.temporal_api_key, tls_cert=settings.temporal_tls_cert,
            tls_key=settings.temporal_tls_key, tls_ca=settings.temporal_tls_ca, max_retry_seconds=5)
        document = await collect(TemporalRuns(gateway), schedule_id, query)
    except TemporalError as exc:  # its message names the address or the schedule already
        raise SundialError(f"Temporal: {exc}") from exc
    document = {"schedule": {"namespace": namespace, "name": args.name, "scheduleId": schedule_id,
                             "temporalNamespace": temporal_namespace}, **document}
    print(json.dumps(document, indent=2, ensure_ascii=False) if query.output == "json" else render_table(document))
    return 0
