"""Run accounting's resources that keep failing: out of the shared window, retried with backoff.

One visibility query lists every run of the cluster closed since the *oldest* watermark of
the resources it accounts for. A resource whose accounting keeps failing (a status patch
refused by a webhook, a body that no longer parses) never moves its watermark, so it would
hold the shared query's start back without bound, and every sweep would list more runs
for everyone. Instead, after its first failure a resource is *stuck*: it leaves the shared
window, is retried alone (its own listing from its own watermark) after a backoff that
doubles from 30 s up to an hour (a 409, a write that raced another, is no such failure), and
carries the condition ``RunAccounting=False, reason
AccountingStuck`` with the error until a retry succeeds (``True, Counted``). Best effort:
the condition itself may fail to write; the log line and the backoff do not depend on it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from sundial.controller.context import OperatorContext
from sundial.domain import status as st
from sundial.domain.conditions import ACCOUNTING_STUCK, COUNTED, RUN_ACCOUNTING
from sundial.domain.run_records import RunInfo
from sundial.logs import decision
from sundial.ports import RunsPort

log = logging.getLogger("sundial.controller.accounting")


@dataclass
class Stuck:
    """One resource whose accounting failed ``failures`` times in a row."""

    failures: int
    retry_at: datetime
    error: str


@dataclass
class StuckBook:
    """The stuck resources by uid (in memory: a restart retries everything once, which is fine)."""

    stuck: dict[str, Stuck] = field(default_factory=dict)
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)

    def failed(self, uid: str, now: datetime, error: str) -> Stuck:
        failures = (self.stuck[uid].failures if uid in self.stuck else 0) + 1
        delay = min(self.cap, self.base * 2 ** min(failures - 1, 16))
        self.stuck[uid] = Stuck(failures, now + delay, error)
        return self.stuck[uid]

    def recovered(self, uid: str) -> bool:
        """Forget a stuck resource; whether it was stuck."""
        return self.stuck.pop(uid, None) is not None

    def waiting(self, uid: str, now: datetime) -> bool:
        """Stuck, and its backoff has not run out: left out of this sweep."""
        return uid in self.stuck and self.stuck[uid].retry_at > now

    def keep_only(self, uids: Iterable[str]) -> None:
        alive = set(uids)
        self.stuck = {uid: entry for uid, entry in self.stuck.items() if uid in alive}


class Watermarked(Protocol):
    """What run accounting tracks of a resource (``accounting.Tracked``), as far as this module needs."""

    @property
    def namespace(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def uid(self) -> str: ...
    @property
    def watermark(self) -> datetime | None: ...


T = TypeVar("T", bound=Watermarked)


def windows(entries: Mapping[str, T], cursors: dict[str, datetime], book: StuckBook, now: datetime
            ) -> tuple[dict[str, T], datetime, defaultdict[str, datetime]]:
    """(the entries to account now, the shared window's start, uid -> where its runs are listed from:
    a retried stuck entry's own start, else the shared one; only stuck entries are keys).

    Entries still backing off are left out; stuck ones are left out of the shared window.
    Cursors and stuck entries of resources no longer tracked are forgotten.
    """
    alive = {t.uid for t in entries.values()}
    for gone in [uid for uid in cursors if uid not in alive]:
        del cursors[gone]
    def mark(t: T) -> datetime | None:
        return max(filter(None, (t.watermark, cursors.get(t.uid))), default=None)

    book.keep_only(alive)
    due = {key: t for key, t in entries.items() if not book.waiting(t.uid, now)}
    shared = earliest((mark(t) for t in due.values() if t.uid not in book.stuck), now)
    alone = {t.uid: earliest([mark(t)], now) for t in due.values() if t.uid in book.stuck}
    return due, shared, defaultdict(lambda: shared, alone)


async def list_alone(runs: RunsPort, due: Mapping[str, Watermarked], alone: Mapping[str, datetime],
                     page_size: int) -> dict[str, list[RunInfo]]:
    """Each retried stuck resource's closed runs, listed from its own watermark (schedule ID -> runs)."""
    listed: dict[str, list[RunInfo]] = {}
    for sid, t in due.items():
        if t.uid in alone:
            listed[sid] = [i async for i in runs.list_closed_runs(sid, alone[t.uid], page_size) if i.schedule_id == sid]
    return listed


def earliest(watermarks: Iterable[datetime | None], now: datetime) -> datetime:
    """Where a listing must start to cover every given watermark (a second early: they are whole seconds)."""
    return min((mark or now for mark in watermarks), default=now) - timedelta(seconds=1)


async def mark_stuck(ctx: OperatorContext, book: StuckBook, t: Watermarked, exc: Exception) -> str:
    """One more failure: backoff, a log line, and the condition on the first one; the failure's text.

    A 409 is not a failure of the resource: a concurrent write (a resume, a reconcile) won the race
    on the version read, and the next sweep simply reads again (as before; no backoff, no condition).
    """
    error = f"{type(exc).__name__}: {exc}"
    if getattr(exc, "status", None) == 409:
        decision(log, "accounting-conflict", "run accounting raced a concurrent write; again next sweep",
                 schedule=f"{t.namespace}/{t.name}")
        return f"{t.namespace}/{t.name}: {exc}"
    stuck = book.failed(t.uid, ctx.clock(), error)
    decision(log, "accounting-failed", "run accounting failed", logging.WARNING, schedule=f"{t.namespace}/{t.name}",
             error=error, failures=stuck.failures, retry_at=stuck.retry_at.isoformat())
    if stuck.failures == 1:
        await set_accounting_condition(ctx, t.namespace, t.name, False,
                                       f"run accounting fails for this schedule, retried with backoff: {error}")
    return f"{t.namespace}/{t.name}: {exc}"


async def mark_counted(ctx: OperatorContext, book: StuckBook, t: Watermarked) -> None:
    """A success: if the resource was stuck, it is not any more (and its condition says so)."""
    if book.recovered(t.uid):
        await set_accounting_condition(ctx, t.namespace, t.name, True, "runs are counted again")


async def set_accounting_condition(ctx: OperatorContext, namespace: str, name: str, ok: bool,
                                   message: str) -> None:
    """``RunAccounting`` on the resource, on the version read (a concurrent write wins; best effort)."""
    try:
        body = await ctx.kube.get_schedule(namespace, name)
        previous = st.status_of(body)
        generation = int(body["metadata"].get("generation") or 0)
        conditions = st.with_condition(st.conditions_of(previous), RUN_ACCOUNTING, ok,
                                       COUNTED if ok else ACCOUNTING_STUCK, message[:1000], generation, ctx.clock())
        await ctx.kube.patch_status(namespace, name, {"conditions": conditions},
                                    resource_version=body["metadata"].get("resourceVersion"))
    except Exception as exc:  # the resource may be why accounting fails: the log line says enough
        decision(log, "accounting-condition-failed", "could not write RunAccounting", logging.WARNING,
                 schedule=f"{namespace}/{name}", error=f"{type(exc).__name__}: {exc}")
