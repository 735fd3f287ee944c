"""``sundial resume --probe`` in the operator: one probe run first; the pause is lifted only if it succeeds.

The CLI sets ``sundial.dev/probe-requested`` (a token, like a resume) and
``sundial.dev/resume-reason``. For each token, once:

1. Start the probe: the schedule's own workflow type, input, task queue, run timeout and
   retry policy (computed from the spec exactly as for the Temporal schedule's action),
   workflow ID ``probe-<scheduleId>-<token>`` (``domain.probe``), tagged with the search
   attribute ``TemporalScheduledById = <scheduleId>`` like the runs the schedule starts.
   That tag is the whole accounting design: run accounting lists a cluster's runs by it
   and counts each run ID exactly once, so the probe's cost and outcome count like any
   run's (a failed probe lengthens the failure streak, a successful one ends it), and
   ``sundial runs`` lists it. ``status.requests.probeRun`` names it.
2. Wait for it in a task of its own (a kopf handler must not block for a run's length),
   following retries, up to the run timeout times the attempts plus a minute.
3. Succeeded: what ``sundial resume`` does (lift the automatic pause, reset the streak,
   reconcile). Failed or not finished: the schedule stays paused and the automatic
   pause's message, hence the Paused condition's, gains the probe's error. Either way
   ``status.requests.probe`` acknowledges the token and ``probeResult`` says
   ``succeeded`` or ``failed: <error>``; the CLI waits for that.

A ``BudgetExhausted`` pause is refused: the cost is still over the cap whatever a run does,
and the probe would spend more. The ID is the same for the same request, so an operator restarted mid-probe finds the
run it started (kopf replays every resource at start) instead of starting another.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from sundial.adapters.kube import CREATOR_ANNOTATION, PROBE_ANNOTATION
from sundial.controller.context import NORMAL, WARNING, OperatorContext
from sundial.controller.reconcile import auto_paused, clear_auto_pause, reconcile
from sundial.domain.conditions import BUDGET_EXHAUSTED
from sundial.domain.patches import merged
from sundial.domain.probe import MAX_ERROR, failed_probe_message, one_line, probe_workflow_id, valid_token
from sundial.domain.run_records import COMPLETED, RunOutcome
from sundial.domain.status import Status, rfc3339, status_of
from sundial.domain.translate import desired_from_spec
from sundial.domain.validation import Peers, check_spec
from sundial.errors import SpecInvalid, TemporalError, TemporalUnavailable
from sundial.logs import decision
from sundial.ports import RunsPort

log = logging.getLogger("sundial.controller.probes")

#: "<uid>/<token>" -> the task that runs that probe (one per request in this process).
_probes: dict[str, asyncio.Task[None]] = {}


def pending_probe(body: Mapping[str, Any]) -> str | None:
    """The probe request's token when it has not been acted on to the end."""
    value = ((body.get("metadata") or {}).get("annotations") or {}).get(PROBE_ANNOTATION)
    acked = (status_of(body).get("requests") or {}).get("probe")
    return value if value and value != acked else None


def start_probe(ctx: OperatorContext, body: Mapping[str, Any], token: str, reason: str, peers: Peers) -> None:
    """Run the probe of this request in its own task, unless this process runs it already."""
    key = f"{body['metadata']['uid']}/{token}"
    if key in _probes:
        return
    task = asyncio.create_task(_probe(ctx, dict(body), token, reason, peers), name=f"probe {key}")
    _probes[key] = task
    task.add_done_callback(lambda _: _probes.pop(key, None))


async def _probe(ctx: OperatorContext, body: dict[str, Any], token: str, reason: str, peers: Peers) -> None:
    meta, status = body["metadata"], status_of(body).copy()
    schedule_id = (status.get("temporal") or {}).get("scheduleId")
    try:
        if not valid_token(token):
            await _ack(ctx, body, token, "refused: the request is not a sundial resume --probe token")
            return
        if status.get("phase") in ("Invalid", "Deleting", None) or not schedule_id:
            await _ack(ctx, body, token, f"refused: the schedule is {status.get('phase') or 'not synced yet'}")
            return
        if (auto_paused(status) or {}).get("reason") == BUDGET_EXHAUSTED:  # a run would only spend more
            await _ack(ctx, body, token, "refused: the pause is BudgetExhausted, which no run can fix: raise or "
                                         "remove policy.maxTotalBudgetUSD")
            return
        creator = (meta.get("annotations") or {}).get(CREATOR_ANNOTATION, "")
        try:
            spec = check_spec(body.get("spec") or {}, meta, peers, ctx.limits_for(meta["namespace"]), ctx.clock(),
                              creator)
        except SpecInvalid as exc:
            await _ack(ctx, body, token, f"refused: {exc.message}")
            return
        desired = desired_from_spec(spec, ctx.identity(body), ctx.defaults, creator, None)
        workflow_id = probe_workflow_id(schedule_id, token)
        runs = ctx.temporal.runs
        if (status.get("requests") or {}).get("probeRun") != workflow_id:
            try:
                started = await runs.start_run(workflow_id, desired, schedule_id)
            except TemporalError as exc:
                await _ack(ctx, body, token, f"failed: could not start the probe run: {exc}")
                return
            if started:
                await ctx.kube.patch_status(meta["namespace"], meta["name"],
                                            {"requests": {"probeRun": workflow_id, "probeResult": "running"}})
                await ctx.event(body, NORMAL, "ProbeStarted",
                                f"started probe run {workflow_id} (sundial resume --probe)")
        limit = desired.run_timeout.total_seconds() * max(1, desired.retry_maximum_attempts) + 60
        outcome = await _closed(runs, workflow_id, limit)
        await _conclude(ctx, body, token, workflow_id, outcome, limit, reason, peers)
    except Exception as exc:  # the request stays pending: retried on the next event or restart
        decision(log, "probe-failed", "probe request failed", logging.WARNING,
                 schedule=f"{meta['namespace']}/{meta['name']}", error=f"{type(exc).__name__}: {exc}")


async def _closed(runs: RunsPort, workflow_id: str, limit: float) -> RunOutcome | None:
    """The probe's final outcome (its last attempt's), or ``None`` when it did not close in time."""
    deadline, delay = time.monotonic() + limit, 0.5
    while time.monotonic() < deadline:
        try:
            outcome = await runs.run_outcome(workflow_id, None)
        except TemporalUnavailable:
            outcome = None
        if outcome is not None and outcome.retried_in_run_id is None and outcome.status != "CONTINUED_AS_NEW":
            return outcome
        await asyncio.sleep(delay)
        delay = min(5.0, delay * 1.5)
    return None


async def _conclude(ctx: OperatorContext, body: Mapping[str, Any], token: str, workflow_id: str,
                    outcome: RunOutcome | None, limit: float, reason: str, peers: Peers) -> None:
    meta = body["metadata"]
    fresh = await ctx.kube.get_schedule(meta["namespace"], meta["name"])
    if fresh["metadata"].get("uid") != meta["uid"] or pending_probe(fresh) != token:
        return  # deleted, or a newer request replaced this one: it decides
    previous = status_of(fresh).copy()
    if outcome is not None and outcome.status == COMPLETED:
        why = f"probe run {workflow_id} succeeded" + (f"; sundial resume: {reason}" if reason else "")
        note = f"resumed at {rfc3339(ctx.clock())} after probe run {workflow_id} succeeded" + (
            f": {reason}" if reason else "")
        await ctx.event(fresh, NORMAL, "ProbeSucceeded", why)
        status = await clear_auto_pause(ctx, fresh, previous, why, {"requests": {
            "probe": token, "probeRun": workflow_id, "probeResult": "succeeded", "resumeNote": note}})
        await reconcile(ctx, {**fresh, "status": status}, peers)
        return
    error = _error(outcome, limit)
    patch: Status = {"requests": {"probe": token, "probeRun": workflow_id,
                                  "probeResult": f"failed: {one_line(error, MAX_ERROR)}"}}
    auto = auto_paused(previous)
    if auto:
        patch["accounting"] = {"autoPause": {"message": failed_probe_message(str(auto.get("message") or ""),
                                                                             workflow_id, error)}}
    await ctx.kube.patch_status(meta["namespace"], meta["name"], patch)
    await ctx.event(fresh, WARNING, "ProbeFailed", f"probe run {workflow_id} failed: {one_line(error, MAX_ERROR)}; "
                                                   "the schedule stays paused")
    if auto:
        await reconcile(ctx, {**fresh, "status": merged(previous, patch)}, peers)


def _error(outcome: RunOutcome | None, limit: float) -> str:
    if outcome is None:
        return f"the run did not finish within {limit:g}s"
    detail = outcome.task_result.error_message if outcome.task_result else None
    return outcome.error or detail or f"the run ended {outcome.status}"


async def _ack(ctx: OperatorContext, body: Mapping[str, Any], token: str, result: str) -> None:
    meta = body["metadata"]
    await ctx.kube.patch_status(meta["namespace"], meta["name"],  # no run: an earlier probe's is not named
                                {"requests": {"probe": token, "probeResult": result, "probeRun": None}})
    await ctx.event(body, WARNING, "ProbeRefused" if result.startswith("refused") else "ProbeFailed", result)
