"""Sundial's own indexes of the Schedule resources, kept from kopf's watch events.

Not ``@kopf.index``: while any kopf index is filling, kopf holds every handler of every
resource, with one toggle per listed object on one shared condition, so each object listed
wakes every worker already waiting for the gate. At 10,000 resources that is O(N^2)
wake-ups, minutes of CPU before the first handler runs (py-spy: 65% of the operator in
``ToggleSet.make_toggle``; docs/benchmarks.md). Here one event handler (``handlers.py``)
keeps the same maps, and only what needs a whole list waits for one: a quota decision
(``peers``) and the sweep, both through one ``IndexReadiness`` (the apiserver's count).
The maps keep kopf's shape (key -> the values of the objects under it), so their readers
did not change.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Hashable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from sundial.controller.accounting_index import Tracked, tracked_from_body
from sundial.controller.index_readiness import IndexReadiness
from sundial.domain import conditions as cond
from sundial.domain import status as st
from sundial.domain.admission import CREATOR_ANNOTATION
from sundial.domain.indexed import IndexedSchedule, Key, indexed_from_body
from sundial.domain.policy import policies_named
from sundial.domain.schedule_metrics import ScheduleMetrics, metrics_from_body
from sundial.domain.validation import Peers

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
Body = Mapping[str, Any]
Entry = tuple[str, str]  # (creationTimestamp, name or "namespace/name"): a quota's ordering

LISTING_POLL_SECONDS = 1.0
LOGGER = logging.getLogger("sundial.controller.schedule_index")


class ObjectIndex(Mapping[K, Collection[V]], Generic[K, V]):
    """key -> the values of the objects filed under it; an object's entries are replaced whole
    on each event and dropped when it is deleted (by uid: a re-created namesake is another object)."""

    __slots__ = ("_by_key", "_entries", "_keys_of")

    def __init__(self, entries: Callable[[Body], Mapping[K, V] | None]) -> None:
        self._entries = entries
        self._by_key: dict[K, dict[str, V]] = {}
        self._keys_of: dict[str, tuple[K, ...]] = {}

    def put(self, uid: str, body: Body) -> None:
        self.drop(uid)
        entries = self._entries(body) or {}
        for key, value in entries.items():
            self._by_key.setdefault(key, {})[uid] = value
        if entries:
            self._keys_of[uid] = tuple(entries)

    def drop(self, uid: str) -> None:
        for key in self._keys_of.pop(uid, ()):
            bucket = self._by_key[key]
            del bucket[uid]
            if not bucket:
                del self._by_key[key]

    def __getitem__(self, key: K) -> Collection[V]:
        return self._by_key[key].values()

    def __iter__(self) -> Iterator[K]:
        return iter(self._by_key)

    def __len__(self) -> int:
        return len(self._by_key)


def _meta(body: Body) -> Mapping[str, Any]:
    return body.get("metadata") or {}


def _key(body: Body) -> Key:
    meta = _meta(body)
    return (meta.get("namespace") or "", meta.get("name") or "")


def by_namespace_entry(body: Body) -> dict[str, Entry]:
    """Namespace -> (creationTimestamp, name): the namespace quota's ordering."""
    meta = _meta(body)
    return {meta.get("namespace") or "": (meta.get("creationTimestamp") or "", meta.get("name") or "")}


def by_creator_entry(body: Body) -> dict[str, Entry] | None:
    """Creator -> (creationTimestamp, "namespace/name"): the per-user quota's ordering, across namespaces."""
    meta = _meta(body)
    creator = (meta.get("annotations") or {}).get(CREATOR_ANNOTATION)
    if not creator:
        return None
    return {creator: (meta.get("creationTimestamp") or "", f"{meta.get('namespace') or ''}/{meta.get('name') or ''}")}


def refused_by_policy_entry(body: Body) -> dict[str, Key]:
    """Policy -> (namespace, name) of each Schedule Stalled for a limit the policy set."""
    stalled = st.condition(st.status_of(body), cond.STALLED) or {}
    named = policies_named(stalled.get("message") or "") if stalled.get("status") == "True" else []
    return {policy: _key(body) for policy in named}


class ScheduleIndexes:
    """Every map the operator keeps of the Schedules, fed by ``observe`` from kopf's events."""

    def __init__(self) -> None:
        self.by_key: ObjectIndex[Key, IndexedSchedule] = ObjectIndex(lambda b: {_key(b): indexed_from_body(b)})
        self.accounting: ObjectIndex[Key, Tracked] = ObjectIndex(lambda b: {_key(b): tracked_from_body(b)})
        self.metrics: ObjectIndex[Key, ScheduleMetrics] = ObjectIndex(lambda b: {_key(b): metrics_from_body(b)})
        self.by_namespace: ObjectIndex[str, Entry] = ObjectIndex(by_namespace_entry)
        self.by_creator: ObjectIndex[str, Entry] = ObjectIndex(by_creator_entry)
        self.refused_by_policy: ObjectIndex[str, Key] = ObjectIndex(refused_by_policy_entry)
        self._all = (self.by_key, self.accounting, self.metrics, self.by_namespace, self.by_creator,
                     self.refused_by_policy)
        self.listed = asyncio.Event()  # set once the maps hold every Schedule the apiserver counted

    def observe(self, event_type: str | None, body: Body) -> None:
        """One watch event (``None`` while kopf lists): file the object, or drop it when deleted."""
        uid = _meta(body).get("uid") or "/".join(_key(body))
        for index in self._all:
            if event_type == "DELETED":
                index.drop(uid)
            else:
                index.put(uid, body)

    def peers_of(self, body: Body) -> Peers:
        """The namespace's and the creator's Schedules, as far as the maps know them now."""
        return Peers(namespace=list(self.by_namespace.get(_meta(body).get("namespace") or "", ())),
                     creator=self.creator_peers(body))

    def creator_peers(self, body: Body) -> list[Entry]:
        """The Schedules of the one who created ``body`` (the per-user quota), across namespaces."""
        creator = (_meta(body).get("annotations") or {}).get(CREATOR_ANNOTATION)
        return list(self.by_creator.get(creator, ())) if creator else []

    async def peers(self, body: Body) -> Peers:
        """``peers_of`` once the maps hold every Schedule: a quota decision needs the whole list."""
        await self.listed.wait()
        return self.peers_of(body)

    async def follow_listing(self, readiness: IndexReadiness, poll_seconds: float = LISTING_POLL_SECONDS) -> None:
        """Set ``listed`` once the maps hold as many Schedules as the apiserver counts (start-up)."""
        while not await self._checked(readiness):  # noqa: ASYNC110 - a pace for the count read
            await asyncio.sleep(poll_seconds)
        self.listed.set()

    async def _checked(self, readiness: IndexReadiness) -> bool:
        """One check; an unexpected failure is logged and retried, never ends the wait (every
        quota decision hangs on it)."""
        try:
            return await readiness.check(len(self.by_key))
        except Exception as exc:
            LOGGER.warning("cannot confirm the Schedule index is whole yet: %s", exc)
            return False


class QuietIndexing(logging.Filter):
    """Drops kopf's "Handler 'index_schedule' succeeded." line: one per watch event, news to nobody."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("Handler 'index_schedule'")
                    and record.levelno <= logging.INFO)
