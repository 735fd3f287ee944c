"""Where ``status.temporal`` says the last write went (issue 10, item 15)."""

from __future__ import annotations

import logging
from typing import Any, cast

import pytest

from sundial.controller.context import OperatorContext
from sundial.controller.moves import previous_place, retire_previous_schedule
from sundial.domain.identity import ScheduleIdentity
from sundial.domain.status import Status
from sundial.errors import TemporalNamespaceNotFound
from sundial.settings import Settings


def test_the_previous_place_defaults_to_the_current_namespace_and_needs_an_id() -> None:
    assert previous_place({}, "default") is None
    assert previous_place({"temporal": {"scheduleId": ""}}, "default") is None
    assert previous_place({"temporal": {"scheduleId": "sundial.a.ns.x"}}, "default") == ("default", "sundial.a.ns.x")
    assert previous_place({"temporal": {"scheduleId": "s", "namespace": "old"}}, "new") == ("old", "s")


class GoneNamespace:
    """A TemporalGateway in a Temporal namespace that was deleted (the SDK's NOT_FOUND, translated)."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def in_namespace(self, namespace: str) -> GoneNamespace:
        return GoneNamespace(namespace)

    async def describe(self, schedule_id: str) -> None:
        raise TemporalNamespaceNotFound(f"Namespace {self.namespace} is not found.")


async def test_an_old_temporal_namespace_that_is_gone_holds_nothing_to_delete() -> None:
    ctx = OperatorContext(settings=Settings(temporal_namespace="new"), temporal=cast(Any, GoneNamespace("new")),
                          kube=cast(Any, None), cluster_id="c", logger=logging.getLogger("test"))
    identity = ScheduleIdentity("c", "team-a", "news", "u1")
    status: Status = {"temporal": {"scheduleId": identity.schedule_id, "namespace": "old"}}
    await retire_previous_schedule(ctx, {"metadata": {}}, identity, status)  # no error: nothing fires there
    with pytest.raises(TemporalNamespaceNotFound):  # the current namespace missing is the reconcile's to report
        await retire_previous_schedule(ctx, {"metadata": {}}, identity,
                                       {"temporal": {"scheduleId": "sundial.x.team-a.news", "namespace": "new"}})


def test_an_id_recorded_under_another_cluster_id_is_moved_not_adopted() -> None:
    from sundial.domain.adoption import adopted_schedule_id

    now = ScheduleIdentity("new-cluster", "team-a", "news", "u1").schedule_id
    before = ScheduleIdentity("old-cluster", "team-a", "news", "u1").schedule_id
    body = {"metadata": {}, "status": {"temporal": {"scheduleId": before}}}
    assert adopted_schedule_id(body, now) is None  # moves.py deletes it and the new ID is created
    taken = {"metadata": {}, "status": {"temporal": {"scheduleId": "legacy-nightly-report"}}}
    assert adopted_schedule_id(taken, now) == "legacy-nightly-report"  # an adopted one stays
