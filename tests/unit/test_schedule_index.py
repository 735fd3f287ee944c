"""Sundial's own indexes of the Schedules (``controller/schedule_index.py``), in place of kopf's."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import kopf
from tests.support.memory_kube import MemoryKube

from sundial.adapters.kube import GROUP, PLURAL, VERSION
from sundial.controller.index_readiness import IndexReadiness
from sundial.controller.schedule_index import ObjectIndex, QuietIndexing, ScheduleIndexes

SPEC = {"cron": "0 9 * * *", "workflow": {"type": "Summarise", "taskQueue": "q"}}


def body(name: str, uid: str, namespace: str = "team-a", creator: str | None = None,
         stalled_by: str | None = None) -> dict[str, Any]:
    annotations = {"sundial.dev/created-by": creator} if creator else {}
    conditions = [{"type": "Stalled", "status": "True", "reason": "QuotaExceeded",
                   "message": f'over the limit set by SchedulePolicy "{stalled_by}"'}] if stalled_by else []
    return {"metadata": {"namespace": namespace, "name": name, "uid": uid, "annotations": annotations,
                         "creationTimestamp": f"2026-12-01T00:00:0{len(name) % 10}Z"},
            "spec": SPEC, "status": {"conditions": conditions}}


def test_the_operator_keeps_no_kopf_index_of_schedules() -> None:
    """kopf's start-up gate holds every handler until its indexes are full, at O(N^2) wake-ups."""
    import sundial.controller.handlers
    import sundial.controller.policy_handlers  # noqa: F401

    registry = kopf.get_default_registry()
    schedules = kopf.Resource(GROUP, VERSION, PLURAL)
    indexers = [h for h in registry._indexing.get_all_handlers() if h.selector and h.selector.check(schedules)]
    assert indexers == []
    watchers = [h.id for h in registry._watching.get_all_handlers() if h.selector and h.selector.check(schedules)]
    assert "index_schedule" in watchers


def test_an_object_files_under_its_keys_and_leaves_them_when_deleted() -> None:
    index: ObjectIndex[str, str] = ObjectIndex(lambda b: {b["metadata"]["namespace"]: b["metadata"]["name"]})
    index.put("u1", body("a", "u1"))
    index.put("u2", body("b", "u2"))
    index.put("u3", body("c", "u3", namespace="team-b"))
    assert sorted(index["team-a"]) == ["a", "b"] and list(index["team-b"]) == ["c"] and len(index) == 2
    index.put("u3", body("c", "u3", namespace="team-c"))  # an object's entries are replaced whole
    assert "team-b" not in index and list(index["team-c"]) == ["c"]
    index.drop("u1")
    index.drop("u3")
    index.drop("never-seen")
    assert dict((k, list(v)) for k, v in index.items()) == {"team-a": ["b"]}


def test_a_late_delete_of_an_old_object_leaves_its_recreated_namesake() -> None:
    """kopf handles each uid in its own worker: a re-created namesake's event may come first."""
    indexes = ScheduleIndexes()
    indexes.observe(None, body("nightly", "old"))
    indexes.observe("ADDED", body("nightly", "new"))
    indexes.observe("DELETED", body("nightly", "old"))
    assert [entry.uid for entry in indexes.by_key[("team-a", "nightly")]] == ["new"]
    assert len(list(indexes.by_namespace["team-a"])) == 1


def test_every_map_follows_the_events() -> None:
    indexes = ScheduleIndexes()
    indexes.observe(None, body("a", "u1", creator="alice"))
    indexes.observe(None, body("b", "u2", namespace="team-b", creator="alice", stalled_by="small-teams"))
    assert {key for key in indexes.accounting} == {("team-a", "a"), ("team-b", "b")}
    assert {key for key in indexes.metrics} == {("team-a", "a"), ("team-b", "b")}
    assert sorted(name for _, name in indexes.by_creator["alice"]) == ["team-a/a", "team-b/b"]
    assert list(indexes.refused_by_policy["small-teams"]) == [("team-b", "b")]
    peers = indexes.peers_of(body("c", "u3", creator="alice"))
    assert [name for _, name in peers.namespace] == ["a"] and len(peers.creator) == 2
    indexes.observe("MODIFIED", body("b", "u2", namespace="team-b", creator="alice"))  # no longer Stalled
    assert "small-teams" not in indexes.refused_by_policy
    indexes.observe("DELETED", body("a", "u1", creator="alice"))
    assert ("team-a", "a") not in indexes.by_key and "team-a" not in indexes.by_namespace
    assert [name for _, name in indexes.by_creator["alice"]] == ["team-b/b"]


async def test_a_quota_decision_waits_until_every_counted_schedule_is_indexed() -> None:
    kube, indexes = MemoryKube(), ScheduleIndexes()
    for n in range(3):
        kube.add("team-a", f"s{n}", SPEC)
    follow = asyncio.create_task(indexes.follow_listing(IndexReadiness(kube), poll_seconds=0.01))
    peers = asyncio.create_task(indexes.peers(body("s0", "u0")))
    indexes.observe(None, body("s0", "u0"))
    indexes.observe(None, body("s1", "u1"))
    await asyncio.sleep(0.05)
    assert not peers.done()  # two of three: a quota decided now could admit one too many
    indexes.observe(None, body("s2", "u2"))
    assert len((await asyncio.wait_for(peers, 1)).namespace) == 3
    await asyncio.wait_for(follow, 1)


async def test_the_count_is_read_again_only_when_the_index_stops_growing() -> None:
    kube = MemoryKube()
    for n in range(5):
        kube.add("team-a", f"s{n}", SPEC)
    readiness = IndexReadiness(kube)
    assert not await readiness.check(0) and kube.reads == 1
    assert not await readiness.check(2) and not await readiness.check(4) and kube.reads == 1  # growing
    del kube.bodies["team-a", "s4"]  # deleted after the count: it never reaches the index
    assert await readiness.check(4) and kube.reads == 2  # stalled: counted again, and whole
    assert await readiness.check(4) and kube.reads == 2  # complete: never counted again


def test_kopfs_line_per_indexed_event_is_dropped_and_nothing_else() -> None:
    quiet = QuietIndexing()

    def record(message: str, level: int = logging.INFO) -> logging.LogRecord:
        return logging.LogRecord("kopf.objects", level, __file__, 1, message, None, None)

    assert not quiet.filter(record("Handler 'index_schedule' succeeded."))
    assert quiet.filter(record("Handler 'index_schedule' failed with an exception.", logging.ERROR))
    assert quiet.filter(record("Handler 'apply_schedule' succeeded."))


async def test_an_unexpected_failure_of_the_count_is_retried_not_the_end_of_the_wait() -> None:
    class Flaky(MemoryKube):
        failures = 2

        async def count_schedules(self, namespace: str | None = None) -> int:
            if self.failures:
                self.failures -= 1
                raise RuntimeError("connection reset")
            return await super().count_schedules(namespace)

    kube, indexes = Flaky(), ScheduleIndexes()
    await asyncio.wait_for(indexes.follow_listing(IndexReadiness(kube), poll_seconds=0.01), 1)
    assert indexes.listed.is_set() and kube.failures == 0
