"""Backfill requests: what ``sundial.dev/backfill-requested`` asks, and whether to do it.

Pure. The annotation's value is a JSON object (see ``docs/backfill.md``)::

    {"from": "2026-12-01T00:00:00Z", "to": "2026-12-01T03:00:00Z",
     "overlap": "AllowAll", "maxRuns": 100, "requestedAt": "<unique token>"}

``from`` and ``to`` are required (RFC 3339 with a zone); the range is half-open,
``from <= t < to``, so three hours of an hourly schedule are three runs. Temporal's own
backfill includes both ends, so the request sent is ``[from, to - 1 ms]``.

The runs are counted here with Sundial's port of Temporal's cron walk before anything is
asked of Temporal; a range over ``maxRuns`` or over the remaining budget is refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sundial.domain.cron import InvalidCronExpression, union_fire_times
from sundial.domain.desired import OVERLAP_POLICIES
from sundial.domain.models import ScheduleSpec, parse_model
from sundial.domain.schedule_rules import spec_whens
from sundial.domain.status import status_of
from sundial.errors import SpecInvalid

#: ``--max-runs`` when none is given.
DEFAULT_MAX_RUNS = 100
#: The most one request may ask for, whatever ``maxRuns`` says (a tenant writes the annotation).
MAX_RUNS_LIMIT = 1000
#: A person asked for these runs: a run still going must not swallow the next (Skip would).
DEFAULT_OVERLAP = "AllowAll"
#: The longest annotation value accepted.
MAX_VALUE_CHARS = 1000
#: Temporal's backfill includes its end; ours does not.
END_EXCLUSIVE = timedelta(milliseconds=1)


class BackfillInvalid(ValueError):
    """The request cannot be acted on; the message names the field, the value and the limit."""


@dataclass(frozen=True)
class BackfillRequest:
    """One backfill request, checked for shape (not yet against the schedule)."""

    start: datetime
    end: datetime
    overlap: str = DEFAULT_OVERLAP
    max_runs: int = DEFAULT_MAX_RUNS
    requested_at: str = ""

    def encode(self) -> str:
        """The annotation value for this request (what the CLI writes)."""
        return json.dumps({"from": _rfc3339(self.start), "to": _rfc3339(self.end), "overlap": self.overlap,
                           "maxRuns": self.max_runs, "requestedAt": self.requested_at}, separators=(",", ":"))


@dataclass(frozen=True)
class BackfillPlan:
    """What to ask of Temporal: the fire times in the range and the bounds to send."""

    runs: tuple[datetime, ...]
    send_start: datetime
    send_end: datetime
    overlap: str


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def parse_time(field: str, value: Any) -> datetime:
    """An RFC 3339 instant with a zone; BackfillInvalid naming ``field`` otherwise."""
    if not isinstance(value, str) or not value:
        raise BackfillInvalid(f"{field} is {value!r}; expected an RFC 3339 time such as 2026-12-01T00:00:00Z")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BackfillInvalid(f"{field} {value!r} is not an RFC 3339 time (e.g. 2026-12-01T00:00:00Z)") from None
    if moment.tzinfo is None:
        raise BackfillInvalid(f"{field} {value!r} has no time zone; add Z or an offset such as +09:00")
    return moment


def make_request(start: datetime, end: datetime, overlap: str = DEFAULT_OVERLAP,
                 max_runs: int = DEFAULT_MAX_RUNS, requested_at: str = "") -> BackfillRequest:
    """A request whose fields are each within their limits (BackfillInvalid otherwise)."""
    if not start < end:
        raise BackfillInvalid(f"from {_rfc3339(start)} is not before to {_rfc3339(end)}")
    if overlap not in OVERLAP_POLICIES:
        raise BackfillInvalid(f"overlap {overlap!r} is not one of {', '.join(OVERLAP_POLICIES)}")
    if isinstance(max_runs, bool) or not isinstance(max_runs, int) or not 1 <= max_runs <= MAX_RUNS_LIMIT:
        raise BackfillInvalid(f"maxRuns {max_runs!r} is not a whole number from 1 to {MAX_RUNS_LIMIT}")
    return BackfillRequest(start, end, overlap, max_runs, requested_at)


def parse_request(value: str) -> BackfillRequest:
    """The request an annotation value encodes; BackfillInvalid with the reason otherwise."""
    if len(value) > MAX_VALUE_CHARS:
        raise BackfillInvalid(f"the annotation value is {len(value)} characters long; the limit is {MAX_VALUE_CHARS}")
    try:
        fields = json.loads(value)
    except ValueError:
        fields = None
    if not isinstance(fields, dict):
        raise BackfillInvalid('the annotation value is not a JSON object like {"from": "...", "to": "..."}')
    unknown = sorted(set(fields) - {"from", "to", "overlap", "maxRuns", "requestedAt"})
    if unknown:
        raise BackfillInvalid(f"unknown field(s) {', '.join(unknown)}; expected from, to, overlap, maxRuns, "
                              "requestedAt")
    return make_request(parse_time("from", fields.get("from")), parse_time("to", fields.get("to")),
                        fields.get("overlap", DEFAULT_OVERLAP), fields.get("maxRuns", DEFAULT_MAX_RUNS),
                        str(fields.get("requestedAt", "")))


def plan_for_resource(request: BackfillRequest, body: Mapping[str, Any], now: datetime) -> BackfillPlan:
    """``plan_backfill`` for a Schedule resource body: its spec and its status.cost.totalUSD."""
    status = status_of(body)
    phase = status.get("phase")
    if phase in ("Invalid", "Deleting", None) or not (status.get("temporal") or {}).get("scheduleId"):
        raise BackfillInvalid(f"the schedule is {phase or 'not synced yet'}")
    auto = (status.get("accounting") or {}).get("autoPause")
    if auto:  # as for sundial trigger: a spent budget or a failure streak is lifted by sundial resume only
        raise BackfillInvalid(f"the schedule is paused automatically ({auto.get('reason')}); "
                              "`sundial resume` lifts the pause")
    try:
        spec = parse_model(ScheduleSpec, body.get("spec"), "spec")
    except SpecInvalid as exc:
        raise BackfillInvalid(str(exc)) from exc
    total = float((status.get("cost") or {}).get("totalUSD") or 0.0)
    return plan_backfill(request, spec, total, now)


def plan_backfill(request: BackfillRequest, spec: ScheduleSpec, total_cost_usd: float,
                  now: datetime) -> BackfillPlan:
    """Count the runs the range would start and check them against maxRuns and the budget.

    The range is clipped to the spec's startAt/endAt (Temporal fires nothing outside them).
    A range reaching past ``now`` is refused: backfill is for times that were missed.
    """
    if request.end > now:
        raise BackfillInvalid(f"to {_rfc3339(request.end)} is in the future (now {_rfc3339(now)}); "
                              "backfill runs missed times only")
    try:
        whens, zone = spec_whens(spec), ZoneInfo(spec.time_zone)
    except (InvalidCronExpression, ZoneInfoNotFoundError, ValueError) as exc:
        raise BackfillInvalid(f"the schedule cannot be read: {exc}") from exc
    start = max(request.start, spec.start_at) if spec.start_at else request.start
    end = min(request.end, spec.end_at) if spec.end_at else request.end
    runs: list[datetime] = []
    for moment in union_fire_times(whens, zone, start, end) if start < end else ():
        runs.append(moment)
        if len(runs) > request.max_runs:  # stop counting: a year of minutes is not walked
            raise BackfillInvalid(f"the range {_rfc3339(request.start)} to {_rfc3339(request.end)} would start "
                                  f"more than {request.max_runs} runs (maxRuns {request.max_runs})")
    _check_budget(len(runs), spec, total_cost_usd)
    return BackfillPlan(tuple(runs), start, end - END_EXCLUSIVE, request.overlap)


def _check_budget(runs: int, spec: ScheduleSpec, total_cost_usd: float) -> None:
    """Each run may spend maxBudgetPerRunUSD; together they must fit what maxTotalBudgetUSD leaves."""
    cap = spec.policy.max_total_budget_usd
    if cap is None or runs == 0:
        return
    remaining = max(0.0, cap - total_cost_usd)
    needed = runs * spec.max_budget_per_run_usd
    if needed > remaining + 1e-9:
        raise BackfillInvalid(
            f"{runs} runs at maxBudgetPerRunUSD {spec.max_budget_per_run_usd:g} may cost ${needed:.2f}; the "
            f"remaining budget is ${remaining:.2f} (policy.maxTotalBudgetUSD {cap:g} - status.cost.totalUSD "
            f"{total_cost_usd:.2f})")
