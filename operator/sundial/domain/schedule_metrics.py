"""Per-schedule metrics, in the style of kube-state-metrics' CronJob metrics, rendered without I/O.

The operator keeps one ``ScheduleMetrics`` per resource in an index (built from the body
on every watch event), so a scrape reads memory only: no Kubernetes or Temporal call. Each
entry renders its own exposition lines once (entries are frozen; a changed resource gets a
new entry), and a scrape joins them family by family, so a scrape of 10,000 schedules is a
few string joins. Labels are only ``namespace`` and ``schedule`` (plus a bounded ``reason``,
``result`` or the identifying labels of ``sundial_schedule_info``): nothing unbounded such
as run IDs or messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sundial.domain.conditions import (
    BUDGET_EXHAUSTED,
    CONSECUTIVE_FAILURES,
    FIRING,
    OVERDUE,
    PAUSED,
    STALLED,
    USER_REQUESTED,
)
from sundial.domain.indexed import shared
from sundial.domain.status import conditions_by_type, status_of

#: Family name -> (type, help). The order is the exposition's.
FAMILIES: dict[str, tuple[str, str]] = {
    "sundial_schedule_info": ("gauge", "One series per Schedule with its Temporal schedule ID, zone and cron."),
    "sundial_schedule_paused": ("gauge", "1 when the schedule is paused; reason user, ConsecutiveFailures or "
                                         "BudgetExhausted (empty when not paused)."),
    "sundial_schedule_next_run_timestamp_seconds": ("gauge", "Next run time as Temporal reports it (Unix time)."),
    "sundial_schedule_last_run_timestamp_seconds": ("gauge", "When the last run started (Unix time)."),
    "sundial_schedule_last_success_timestamp_seconds": ("gauge", "When the last successful run closed (Unix time)."),
    "sundial_schedule_runs_total": ("counter", "Finished runs by result (succeeded, failed)."),
    "sundial_schedule_consecutive_failures": ("gauge", "Failed runs since the last success."),
    "sundial_schedule_failure_limit": ("gauge", "policy.maxConsecutiveFailures: the streak that pauses the "
                                                "schedule (0: never)."),
    "sundial_schedule_cost_usd_total": ("counter", "Cumulative cost of the schedule's runs, US dollars."),
    "sundial_schedule_budget_usd": ("gauge", "policy.maxTotalBudgetUSD, the cumulative cap (only when set)."),
    "sundial_schedule_overdue": ("gauge", "1 when a next run time passed with no run started (Firing=False)."),
    "sundial_schedule_stalled": ("gauge", "1 when the spec is refused (Stalled=True), with the refusal's reason."),
}
_PAUSE_REASONS = {USER_REQUESTED: "user", CONSECUTIVE_FAILURES: CONSECUTIVE_FAILURES,
                  BUDGET_EXHAUSTED: BUDGET_EXHAUSTED}
_DEFAULT_FAILURE_LIMIT = 3


def escape(value: str) -> str:
    """A label value in the text exposition format."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _when(spec: Mapping[str, Any]) -> str:
    """spec.schedule, or the entries of spec.schedules joined by "; "."""
    several = spec.get("schedules")
    return str(spec.get("schedule") or ("; ".join(map(str, several)) if isinstance(several, list) else ""))


def _epoch(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class ScheduleMetrics:
    """What the per-schedule metrics show of one resource."""

    namespace: str
    schedule: str
    temporal_schedule_id: str = ""
    timezone: str = ""
    cron: str = ""
    paused_reason: str = ""  # "" when not paused
    next_run: float | None = None
    last_run: float | None = None
    last_success: float | None = None
    succeeded: float = 0
    failed: float = 0
    consecutive_failures: float = 0
    failure_limit: float = _DEFAULT_FAILURE_LIMIT
    cost_usd: float = 0.0
    budget_usd: float | None = None
    overdue: bool = False
    stalled_reason: str | None = None  # None when not stalled

    @cached_property
    def lines(self) -> dict[str, str]:
        """Family name -> this entry's sample lines (rendered once per entry)."""
        key = f'namespace="{escape(self.namespace)}",schedule="{escape(self.schedule)}"'
        out = {
            "sundial_schedule_info": f'sundial_schedule_info{{{key},temporal_schedule_id="'
                                     f'{escape(self.temporal_schedule_id)}",timezone="{escape(self.timezone)}",'
                                     f'cron="{escape(self.cron)}"}} 1',
            "sundial_schedule_paused": f'sundial_schedule_paused{{{key},reason="{escape(self.paused_reason)}"}} '
                                       f'{1 if self.paused_reason else 0}',
            "sundial_schedule_runs_total": "\n".join(
                f'sundial_schedule_runs_total{{{key},result="{result}"}} {number(count)}'
                for result, count in (("succeeded", self.succeeded), ("failed", self.failed))),
            "sundial_schedule_consecutive_failures": f"sundial_schedule_consecutive_failures{{{key}}} "
                                                     f"{number(self.consecutive_failures)}",
            "sundial_schedule_failure_limit": f"sundial_schedule_failure_limit{{{key}}} {number(self.failure_limit)}",
            "sundial_schedule_cost_usd_total": f"sundial_schedule_cost_usd_total{{{key}}} {number(self.cost_usd)}",
            "sundial_schedule_overdue": f"sundial_schedule_overdue{{{key}}} {1 if self.overdue else 0}",
        }
        for family, value in (("sundial_schedule_next_run_timestamp_seconds", self.next_run),
                              ("sundial_schedule_last_run_timestamp_seconds", self.last_run),
                              ("sundial_schedule_last_success_timestamp_seconds", self.last_success),
                              ("sundial_schedule_budget_usd", self.budget_usd)):
            if value is not None:
                out[family] = f"{family}{{{key}}} {number(value)}"
        if self.stalled_reason is not None:
            reason = escape(self.stalled_reason)
            out["sundial_schedule_stalled"] = f'sundial_schedule_stalled{{{key},reason="{reason}"}} 1'
        return out


def metrics_from_body(body: Mapping[str, Any]) -> ScheduleMetrics:
    """The entry of one resource body (tolerant of a missing or partial status and an invalid spec)."""
    meta, spec = body.get("metadata") or {}, body.get("spec") or {}
    status = status_of(body)
    spec = spec if isinstance(spec, Mapping) else {}
    conditions = conditions_by_type(status)
    paused, stalled, firing = (conditions.get(t) or {} for t in (PAUSED, STALLED, FIRING))
    policy: Mapping[str, Any] = spec["policy"] if isinstance(spec.get("policy"), Mapping) else {}
    runs = status.get("runs") or {}
    limit = _float(policy.get("maxConsecutiveFailures"))
    return ScheduleMetrics(
        namespace=shared(str(meta.get("namespace") or "")), schedule=str(meta.get("name") or ""),
        temporal_schedule_id=str((status.get("temporal") or {}).get("scheduleId") or ""),
        timezone=shared(str(spec.get("timeZone") or "UTC")), cron=shared(_when(spec)),
        paused_reason=_PAUSE_REASONS.get(str(paused.get("reason")), "") if paused.get("status") == "True" else "",
        next_run=_epoch(status.get("nextRunTime")), last_run=_epoch(status.get("lastRunTime")),
        last_success=_epoch(status.get("lastSuccessfulTime")),
        succeeded=_float(runs.get("succeeded")) or 0, failed=_float(runs.get("failed")) or 0,
        consecutive_failures=_float(runs.get("consecutiveFailures")) or 0,
        failure_limit=_DEFAULT_FAILURE_LIMIT if limit is None else limit,
        cost_usd=_float((status.get("cost") or {}).get("totalUSD")) or 0.0,
        budget_usd=_float(policy.get("maxTotalBudgetUSD")),
        overdue=firing.get("status") == "False" and firing.get("reason") == OVERDUE,
        stalled_reason=str(stalled.get("reason") or "") if stalled.get("status") == "True" else None,
    )


def render(entries: Iterable[ScheduleMetrics]) -> str:
    """The text exposition of every family for these entries (HELP and TYPE once per family)."""
    listed = list(entries)
    chunks: list[str] = []
    for family, (kind, help_text) in FAMILIES.items():
        samples = [line for entry in listed if (line := entry.lines.get(family)) is not None]
        if samples:
            chunks.append(f"# HELP {family} {help_text}\n# TYPE {family} {kind}\n" + "\n".join(samples) + "\n")
    return "".join(chunks)
