"""A schedule over its quota is paused in Temporal even when the spec breaks another rule too
(issue 10, item 7: the combined refusal names the first problem; the quota may come second).

The real reconcile and OperatorContext; the Temporal and Kubernetes gateways are small fakes
with the real ones' method names.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import kopf
import pytest

from sundial.controller.context import OperatorContext
from sundial.controller.reconcile import reconcile
from sundial.domain.desired import ObservedSchedule, ScheduleIdentity
from sundial.domain.status import Status
from sundial.domain.validation import Peers
from sundial.settings import Settings

META = {"namespace": "team-a", "name": "newer", "uid": "u2", "generation": 2,
        "creationTimestamp": "2026-06-01T00:00:02Z"}
PEERS = Peers(namespace=[("2026-06-01T00:00:01Z", "older"), ("2026-06-01T00:00:02Z", "newer")])


class RunningTemporal:
    """A Temporal schedule that exists and runs; records the pauses asked for."""

    def __init__(self, identity: ScheduleIdentity) -> None:
        self.identity, self.pauses = identity, []  # type: tuple[ScheduleIdentity, list[str]]

    async def describe(self, schedule_id: str) -> ObservedSchedule:
        return ObservedSchedule(schedule_id, self.identity.memo(), False, "", "ScheduledTaskWorkflow",
                                "sundial-tasks", "a.b")

    async def pause(self, schedule_id: str, note: str) -> None:
        self.pauses.append(note)


class RecordingKube:
    def __init__(self) -> None:
        self.status: dict[str, Any] = {}
        self.events: list[tuple[str, str]] = []

    async def patch_status(self, namespace: str, name: str, patch: Status,
                           resource_version: str | None = None) -> None:
        self.status.update(patch)

    async def post_event(self, namespace: str, name: str, uid: str, event_type: str, reason: str,
                         message: str) -> None:
        self.events.append((event_type, reason))


@pytest.mark.parametrize("spec", [
    {"schedule": "0 9 * * *", "task": {"query": "q"}},  # only over the quota
    {"schedule": "*/5 * * * *", "task": {"query": "q"}},  # an interval too short, and over the quota
])
def test_a_schedule_over_the_quota_is_paused_in_temporal_whatever_else_it_breaks(spec: dict[str, Any]) -> None:
    identity = ScheduleIdentity("c1", "team-a", "newer", "u2")
    temporal, kube = RunningTemporal(identity), RecordingKube()
    ctx = OperatorContext(settings=Settings(max_per_namespace=1), temporal=temporal,  # type: ignore[arg-type]
                          kube=kube,  # type: ignore[arg-type]
                          cluster_id="c1", logger=logging.getLogger("test"))

    async def scenario() -> None:
        await reconcile(ctx, {"metadata": META, "spec": spec}, PEERS)

    with pytest.raises(kopf.PermanentError):
        asyncio.run(scenario())
    assert len(temporal.pauses) == 1 and temporal.pauses[0].startswith(
        "ScheduleLimitReached: namespace team-a has 2 schedules; the limit is 1"), temporal.pauses
    assert ("Warning", "Paused") in kube.events
