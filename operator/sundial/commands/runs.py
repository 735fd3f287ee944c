"""``sundial runs NAME``: a schedule's run history from Temporal, with the cost of the selection.

The resource says which Temporal schedule it is (``status.temporal.scheduleId``, or the
deterministic ID when the status has none yet); the runs come from Temporal itself, so
they include runs the status no longer lists. Runs are listed newest first (by start
time, then run ID); ``--status`` and ``--since``/``--until`` (on the start time, RFC 3339
or relative such as ``30m``, ``3h``, ``7d``, ``2w``) select, ``--page``/``--page-size``
(1-based; default 20, at most 100) page through the selection. Each closed run's cost,
tokens, model and error come from its close event: one Temporal call per closed run of
the selection (the footer sums the whole selection, not just the page). What a run was
asked (``query``, from its first event) costs one more call per run *shown*: always with
``-o json``, with ``--show-result`` for the table, never for runs of other pages.

``-o json`` prints one object, stable across releases (keys are only ever added)::

    {"schedule": {"namespace", "name", "scheduleId", "temporalNamespace"},
     "filter":   {"status": str|null, "since": RFC3339|null, "until": RFC3339|null},
     "page": int, "pageSize": int, "pages": int,
     "runs": [{"workflowId", "runId", "status", "scheduledTime", "startedAt", "closedAt",
               "durationMs", "costUSD", "totalTokens", "model", "provider", "error",
               "query", "result", "resultChars"}, ...],
     "selection": {"count": int, "costUSD": float, "runsWithoutCost": int}}

Run keys are those of ``status.recentRuns``; every key is present, ``null`` when unknown
(an open run has no ``closedAt``; a timed-out run reports no cost). ``status`` is
Temporal's: RUNNING, COMPLETED, FAILED, TIMED_OUT, TERMINATED, CANCELED (a failed
attempt that was retried is listed as FAILED, with its cost). ``query`` is the input's
``task_query``; ``result`` what a completed run returned (a string as is, other values as
JSON), cut to ``--result-chars`` characters (default 2000; the table shows 200), and
``resultChars`` its full length (a failed run's message is ``error``). Exit codes: 0, 1 when the
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sundial.adapters.kube import KubeGateway, ScheduleResourceNotFound, load_api_client
from sundial.adapters.temporal import TemporalGateway
from sundial.adapters.temporal_runs import MAX_PAGE_SIZE, STATUS_FILTERS, RunPage, TemporalRuns
from sundial.commands.runs_table import duration_text, io_lines, render_table
from sundial.commands.schedule_actions import current_namespace
from sundial.domain.desired import ScheduleIdentity
from sundial.domain.run_records import ClosedRun, RunInfo, RunOutcome, closed_run, run_io, run_record
from sundial.domain.status import rfc3339, status_of
from sundial.errors import SundialError, TemporalError
from sundial.settings import load_settings, read_api_key

DEFAULT_PAGE_SIZE, MAX_CLI_PAGE_SIZE = 20, 100
#: Characters of a result shown by default (JSON, table) and at most (``--result-chars``).
RESULT_CHARS_JSON, RESULT_CHARS_TABLE, MAX_RESULT_CHARS = 2000, 200, 10_000_000
_RELATIVE = re.compile(r"^([0-9]+)(s|m|h|d|w)$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


__all__ = ["UsageError", "collect", "duration_text", "io_lines", "main", "parse_query", "render_table"]


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
    runs.add_argument("--show-result", action="store_true",
                      help="table: under each run, its query and result (json always has them)")
    runs.add_argument("--result-chars", help=f"cut results to this many characters (default {RESULT_CHARS_JSON}"
                                             f" for json, {RESULT_CHARS_TABLE} for the table; at most "
                                             f"{MAX_RESULT_CHARS}); resultChars is the full length")
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
    show_io: bool = False  # read and show query and result (json: always)
    result_chars: int = RESULT_CHARS_JSON


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
    json_output = args.output == "json"
    chars = RESULT_CHARS_JSON if json_output else RESULT_CHARS_TABLE
    if getattr(args, "result_chars", None) is not None:
        chars = _positive(args.result_chars, "--result-chars", MAX_RESULT_CHARS)
    return Query(status, since, until, _positive(args.page, "--page"),
                 _positive(args.page_size, "--page-size", MAX_CLI_PAGE_SIZE), args.output,
                 json_output or bool(getattr(args, "show_result", False)), chars)


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


class RunSource(Protocol):
    """What ``collect`` needs of ``TemporalRuns`` (a unit test counts its calls)."""

    async def list_runs(self, schedule_id: str, status: str | None = None, since: datetime | None = None,
                        until: datetime | None = None, page_size: int = 100, page_token: bytes | None = None
                        ) -> RunPage: ...

    async def run_outcome(self, workflow_id: str, run_id: str) -> RunOutcome | None: ...

    async def run_input(self, workflow_id: str, run_id: str) -> Any: ...


async def collect(runs: RunSource, schedule_id: str, query: Query) -> dict[str, Any]:
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
    shown = selection[start:end]
    records: list[Mapping[str, Any]] = [run_record(joined.get(r.run_id) or r) for r in shown]
    if query.show_io:  # one first-event read per run shown, none for the rest of the selection
        inputs = await asyncio.gather(*(runs.run_input(r.workflow_id, r.run_id) for r in shown))
        records = [{**record, **run_io(task_input, _result(joined.get(r.run_id)), query.result_chars)}
                   for record, r, task_input in zip(records, shown, inputs, strict=True)]
    return {
        "filter": {"status": query.status, "since": _time(query.since), "until": _time(query.until)},
        "page": query.page, "pageSize": query.page_size, "pages": pages,
        "runs": records,
        "selection": {"count": len(selection), "costUSD": round(sum(c or 0.0 for c in costs), 6),
                      "runsWithoutCost": sum(1 for c in costs if c is None) + len(selection) - len(closed)},
    }


def _result(run: ClosedRun | None) -> Any:
    return run.result if run is not None and run.succeeded else None


def _time(moment: datetime | None) -> str | None:
    return rfc3339(moment) if moment else None


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
        temporal_ref = status_of(body).get("temporal") or {}
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
            address, temporal_namespace, api_key=read_api_key(settings), tls_cert=settings.temporal_tls_cert,
            tls_key=settings.temporal_tls_key, tls_ca=settings.temporal_tls_ca, max_retry_seconds=5)
        document = await collect(TemporalRuns(gateway), schedule_id, query)
    except TemporalError as exc:  # its message names the address or the schedule already
        raise SundialError(f"Temporal: {exc}") from exc
    document = {"schedule": {"namespace": namespace, "name": args.name, "scheduleId": schedule_id,
                             "temporalNamespace": temporal_namespace}, **document}
    print(json.dumps(document, indent=2, ensure_ascii=False) if query.output == "json" else render_table(document))
    return 0
