"""One action per annotation request, also when kopf hands the handler a body older than the acknowledgement.

kopf delivers every watch event; an event whose body predates the ``status.requests`` write (the watch
event of an earlier write, a concurrent reconcile's status update) still carries the request
unacknowledged. These tests feed the handler such a stale body after the first one was handled.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from datetime import UTC, datetime
from typing import Any

from temporalio.service import RPCError, RPCStatusCode
from tests.support.memory_kube import MemoryKube
from tests.support.memory_temporal import MemoryTemporal

from sundial.adapters.temporal_mapping import translate
from sundial.controller.annotation_requests import handle_annotation_requests
from sundial.controller.context import OperatorContext
from sundial.domain.indexed import indexed_from_body
from sundial.domain.retry import needs_retry
from sundial.domain.validation import Peers
from sundial.errors import TemporalOutcomeUnknown, TemporalUnavailable
from sundial.settings import Settings

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SPEC = {"schedule": "0 * * * *", "task": {"query": "q"}}
BACKFILL = '{"from": "2026-11-22T00:00:00Z", "to": "2026-11-22T03:00:00Z"}'


def synced(annotations: dict[str, str], temporal: MemoryTemporal | None = None,
           ) -> tuple[OperatorContext, MemoryKube, MemoryTemporal, dict[str, Any]]:
    """A synced Schedule carrying ``annotations``; returns the body as the first watch event shows it."""
    kube, temporal = MemoryKube(), temporal or MemoryTemporal()
    ctx = OperatorContext(settings=Settings(), temporal=temporal, kube=kube, cluster_id="cluster-a",
                          logger=logging.getLogger("test-requests-once"), clock=lambda: NOW)
    body = kube.add("team-a", "hourly", SPEC, annotations=annotations)
    identity = ctx.identity(body)
    temporal.put(identity)
    kube.bodies["team-a", "hourly"]["status"] = {"phase": "Active", "temporal": {"scheduleId": identity.schedule_id}}
    return ctx, kube, temporal, copy.deepcopy(kube.bodies["team-a", "hourly"])


async def test_a_trigger_seen_again_in_a_body_older_than_its_acknowledgement_starts_one_run() -> None:
    ctx, kube, temporal, stale = synced({"sundial.dev/trigger-requested": "2026-11-22T11:59:00.000001Z"})
    await handle_annotation_requests(ctx, copy.deepcopy(stale), Peers())
    assert kube.status("hourly")["requests"]["trigger"] == "2026-11-22T11:59:00.000001Z"
    await handle_annotation_requests(ctx, stale, Peers())  # the ack is not in this body
    assert len(temporal.triggered) == 1
    assert [e[2] for e in kube.events] == ["Triggered"]


async def test_a_backfill_seen_again_in_a_body_older_than_its_acknowledgement_runs_once() -> None:
    ctx, kube, temporal, stale = synced({"sundial.dev/backfill-requested": BACKFILL})
    await handle_annotation_requests(ctx, copy.deepcopy(stale), Peers())
    assert kube.status("hourly")["requests"]["backfill"] == BACKFILL
    await handle_annotation_requests(ctx, stale, Peers())
    assert len(temporal.backfilled) == 1, "the stale body backfilled the range a second time"
    assert [e[2] for e in kube.events] == ["Backfilled"]


async def test_two_handlers_at_once_on_one_backfill_request_run_it_once() -> None:
    """The event handler and the sweeper's retry may hold the same unacknowledged request together."""
    ctx, _kube, temporal, stale = synced({"sundial.dev/backfill-requested": BACKFILL})
    await asyncio.gather(handle_annotation_requests(ctx, copy.deepcopy(stale), Peers()),
                         handle_annotation_requests(ctx, copy.deepcopy(stale), Peers()))
    assert len(temporal.backfilled) == 1


async def test_a_resume_seen_again_in_a_body_older_than_its_acknowledgement_acts_once() -> None:
    ctx, kube, _temporal, stale = synced({"sundial.dev/resume-requested": "2026-11-22T11:59:00Z"})
    await handle_annotation_requests(ctx, copy.deepcopy(stale), Peers())
    assert kube.status("hourly")["requests"]["resume"] == "2026-11-22T11:59:00Z"
    events = len(kube.events)
    await handle_annotation_requests(ctx, stale, Peers())
    assert len(kube.events) == events, "the stale body acted on the resume request again"
    assert sum("resume" in (patch.get("requests") or {}) for _, _, patch in kube.patches) == 1


async def test_a_new_request_on_the_same_schedule_is_acted_on() -> None:
    ctx, kube, temporal, first = synced({"sundial.dev/trigger-requested": "2026-11-22T10:00:00.000002Z"})
    ctx.settings = Settings(trigger_min_interval_minutes=0)
    await handle_annotation_requests(ctx, first, Peers())
    second = copy.deepcopy(kube.bodies["team-a", "hourly"])
    second["metadata"]["annotations"]["sundial.dev/trigger-requested"] = "2026-11-22T10:05:00.000002Z"
    await handle_annotation_requests(ctx, second, Peers())
    assert len(temporal.triggered) == 2


async def test_a_trigger_that_waited_for_temporal_is_tried_again() -> None:
    """Not started (Temporal away) is not acted on: the retry with the same request must go through."""
    ctx, kube, temporal, stale = synced({"sundial.dev/trigger-requested": "2026-11-22T11:58:00.000003Z"})
    temporal.down = True
    await handle_annotation_requests(ctx, copy.deepcopy(stale), Peers())
    assert temporal.triggered == [] and kube.status("hourly")["requests"]["triggerResult"].startswith("waiting")
    temporal.down = False
    await handle_annotation_requests(ctx, copy.deepcopy(kube.bodies["team-a", "hourly"]), Peers())
    assert len(temporal.triggered) == 1


class TimesOutOnce(MemoryTemporal):
    """The trigger reaches Temporal and starts the run, but the answer is lost: DEADLINE_EXCEEDED."""

    timed_out = False

    async def trigger(self, schedule_id: str, overlap: str = "AllowAll") -> None:
        await super().trigger(schedule_id, overlap)
        if not self.timed_out:
            self.timed_out = True
            raise translate(RPCError("Deadline Exceeded", RPCStatusCode.DEADLINE_EXCEEDED, b""), "trigger")


async def test_a_trigger_that_timed_out_is_not_sent_again_it_may_have_started() -> None:
    temporal = TimesOutOnce()
    ctx, kube, _, stale = synced({"sundial.dev/trigger-requested": "2026-11-22T11:57:00.000004Z"}, temporal)
    await handle_annotation_requests(ctx, copy.deepcopy(stale), Peers())
    fresh = copy.deepcopy(kube.bodies["team-a", "hourly"])  # what the sweeper's retry would read
    if needs_retry(indexed_from_body(fresh)):
        await handle_annotation_requests(ctx, fresh, Peers())
    await handle_annotation_requests(ctx, stale, Peers())
    assert len(temporal.triggered) == 1, "a trigger whose answer was lost was sent again"
    requests = kube.status("hourly")["requests"]
    assert requests["trigger"] == "2026-11-22T11:57:00.000004Z" and requests["triggerResult"].startswith("unknown")
    assert [e[2] for e in kube.events] == ["TriggerOutcomeUnknown"]


def test_a_timeout_or_cancel_is_an_unknown_outcome_waited_out_like_an_outage_elsewhere() -> None:
    for code in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED):
        error = translate(RPCError("x", code, b""), "update")
        assert isinstance(error, TemporalOutcomeUnknown) and isinstance(error, TemporalUnavailable)
    assert not isinstance(translate(RPCError("x", RPCStatusCode.UNAVAILABLE, b""), "u"), TemporalOutcomeUnknown)
