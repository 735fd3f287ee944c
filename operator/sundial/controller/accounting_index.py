"""What run accounting keeps per Schedule in the operator's index (``Tracked``), split from ``accounting``.

Pure: a sweep decides from these entries, without reading a resource, whether it has to act.
``sundial.controller.accounting`` re-exports every name here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sundial.controller.budget_stop import stop_due
from sundial.domain import conditions as cond
from sundial.domain import status as st
from sundial.domain.adoption import adopted_id
from sundial.domain.indexed import shared
from sundial.domain.run_records import parse_time
from sundial.domain.runs import Ledger


@dataclass(frozen=True, slots=True)  # one per resource: no __dict__ each
class Tracked:
    """What a sweep needs to know about one Schedule to decide, without reading it, whether to act."""

    namespace: str
    name: str
    uid: str
    created: str = ""  # metadata.creationTimestamp as stored
    deleting: bool = False
    closed_through: datetime | None = None
    counted_ids: frozenset[str] = frozenset()
    running: int = 0
    pause_pending: bool = False
    adopted_id: str = ""  # status.temporal.scheduleId when it is not a Sundial ID (docs/adoption.md)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def watermark(self) -> datetime | None:
        return self.closed_through or parse_time(self.created)


def tracked_from_body(body: Mapping[str, Any]) -> Tracked:
    """The index entry of one resource body (pure; for ``schedule_index``)."""
    meta, status = body.get("metadata") or {}, st.status_of(body)
    ledger = Ledger.from_status(status)
    return Tracked(shared(str(meta.get("namespace") or "")), str(meta.get("name") or ""), str(meta.get("uid") or ""),
                   str(meta.get("creationTimestamp") or ""), bool(meta.get("deletionTimestamp")),
                   ledger.closed_through, ledger.counted_ids, ledger.running, pause_pending(body) or stop_due(status),
                   adopted_id(status))


def pause_pending(body: Mapping[str, Any]) -> bool:
    """The status holds an automatic pause that the Paused condition does not show yet."""
    status = st.status_of(body)
    pause = (status.get("accounting") or {}).get("autoPause")
    if not pause or (body.get("spec") or {}).get("paused"):
        return False  # spec.paused pauses already, with its own reason (UserRequested)
    paused = st.condition(status, cond.PAUSED) or {}
    return not (paused.get("status") == "True" and paused.get("reason") == pause.get("reason"))


def index_reader(index: Mapping[Any, Iterable[Tracked]]) -> Callable[[], list[Tracked]]:
    """``tracked`` for ``account_once`` from an index of ``tracked_from_body`` entries."""
    return lambda: [entry for store in list(index.values()) for entry in list(store)[:1]]
