"""What the sweeper keeps of each ``Schedule`` resource in the operator's index: enough to judge drift,
completion, retries and re-admission from a list page alone, with no read of the resource.

Pure; built from each body on every watch event (``indexed_from_body``).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sundial.domain.admission import CREATOR_ANNOTATION
from sundial.domain.adoption import adopted_id
from sundial.domain.conditions import FIRING, PAUSED, STALLED
from sundial.domain.status import Status, conditions_by_type, status_of
from sundial.domain.status_dicts import ConditionDict

Key = tuple[str, str]  # (namespace, name)
SETTLED_PHASES = ("Active", "Paused")
TRIGGER_ANNOTATION = "sundial.dev/trigger-requested"  # adapters.kube's name; the domain imports no adapter


@dataclass(frozen=True, slots=True)  # one per resource: no __dict__ each
class IndexedSchedule:
    """What the sweep needs to know about one ``Schedule`` resource, kept in the operator's index."""

    uid: str
    generation: int = 0
    observed_generation: int | None = None
    phase: str | None = None
    deleting: bool = False
    expected_paused: bool = False  # spec.paused or status.accounting.autoPause (the reconcile's rule)
    status_paused: bool = False  # the Paused condition is True: the last reconcile paused it
    fingerprint: str | None = None  # status.temporal.fingerprint recorded after the last write
    next_run_time: str | None = None
    time_zone: str = "UTC"
    firing: str | None = None  # the Firing condition's status, "True"/"False", None when absent
    firing_reason: str | None = None
    max_runs: int | None = None  # spec.maxRuns
    refusal: str | None = None  # the Stalled reason while Stalled=True (e.g. ScheduleLimitReached)
    trigger_waiting: bool = False  # a sundial trigger not yet acknowledged, waiting for Temporal
    adopted: bool = False  # runs under an adopted (not deterministic) ID: not listed by the sweep
    creator: str = ""  # the sundial.dev/created-by annotation: the per-creator quota's key

    @property
    def settled(self) -> bool:
        """Synced at its current generation, no pause or resume in flight (an automatic pause
        written but not yet applied, a resume requested), not going away: the only state drift
        is judged in."""
        return (self.phase in SETTLED_PHASES and not self.deleting and bool(self.fingerprint)
                and self.observed_generation == self.generation and self.status_paused == self.expected_paused)


def shared(value: Any) -> Any:
    """One copy of a string that many entries hold alike (a phase, a zone, a next run time, a
    namespace): each watch event decodes its own copies, and the index keeps one entry per resource."""
    return sys.intern(value) if isinstance(value, str) else value


def indexed_from_body(body: Mapping[str, Any]) -> IndexedSchedule:
    """The index entry of one resource body (tolerant of missing status)."""
    meta, spec = body.get("metadata") or {}, body.get("spec") or {}
    status = status_of(body)
    conditions = conditions_by_type(status)
    firing: ConditionDict = conditions.get(FIRING) or {}
    stalled: ConditionDict = conditions.get(STALLED) or {}
    auto_pause = (status.get("accounting") or {}).get("autoPause")
    return IndexedSchedule(
        uid=str(meta.get("uid") or ""), generation=int(meta.get("generation") or 0),
        observed_generation=status.get("observedGeneration"), phase=shared(status.get("phase")),
        deleting=bool(meta.get("deletionTimestamp")),
        expected_paused=bool(spec.get("paused")) or bool(auto_pause),
        status_paused=(conditions.get(PAUSED) or {}).get("status") == "True",
        fingerprint=(status.get("temporal") or {}).get("fingerprint"),
        next_run_time=shared(status.get("nextRunTime")), time_zone=shared(str(spec.get("timeZone") or "UTC")),
        firing=shared(firing.get("status")), firing_reason=shared(firing.get("reason")), max_runs=spec.get("maxRuns"),
        refusal=shared(stalled.get("reason")) if stalled.get("status") == "True" else None,
        trigger_waiting=_trigger_waiting(meta, status), adopted=bool(adopted_id(status)),
        creator=shared(str((meta.get("annotations") or {}).get(CREATOR_ANNOTATION) or "")))


def _trigger_waiting(meta: Mapping[str, Any], status: Status) -> bool:
    requested, requests = (meta.get("annotations") or {}).get(TRIGGER_ANNOTATION), status.get("requests") or {}
    waiting = str(requests.get("triggerResult")).startswith("waiting")
    return bool(requested) and requested != requests.get("trigger") and waiting
