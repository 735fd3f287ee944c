"""The fingerprint of a write, computed from what was sent, equals the one a describe shows.

The reconcile no longer reads a schedule back after creating or updating it
(``sundial.domain.written``): the fingerprint it records is computed from the desired
schedule, with the server's normalisation applied (``fingerprint_from_desired``). This holds
that equal to the fingerprint of a describe, on a real Temporal dev server, for every entry
of ``CORPUS`` after a create, and again after an update to the next entry. The same for the
remaining runs under ``maxRuns`` and for the next run time where the cron walk computes it.

To cover a new spec feature, add an entry to ``CORPUS``: a name and the ``DesiredSchedule``
fields that differ from ``base``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.support.waiting import eventually_async

from sundial.adapters.temporal import TemporalGateway
from sundial.domain.contract import run_envelope
from sundial.domain.cron import Interval
from sundial.domain.desired import OVERLAP_POLICIES, DesiredSchedule, ScheduleIdentity, cluster_prefix, task_input
from sundial.domain.written import WrittenSchedule, next_run_after_write

_SOON = datetime.now(UTC).replace(microsecond=0)

CORPUS: list[tuple[str, dict[str, Any]]] = [
    ("plain", {}),
    ("steps-ranges-names", {"crons": ("*/15 9-17 * * MON-FRI",)}),
    ("lists-and-stepped-ranges", {"crons": ("5,10,20-30/3 1 1-15/2 JAN,MAR-may */2",)}),
    ("long-names", {"crons": ("0 6 * january,December Monday",)}),
    ("start-with-step", {"crons": ("7/10 * * * *",)}),
    ("day-of-month-step-month-step", {"crons": ("0 0 1/10 */3 *",)}),
    ("leading-zeros", {"crons": ("05 007 * * 6-7",)}),
    ("step-as-wide-as-the-field", {"crons": ("0-59/60 * * * *",)}),
    ("leap-day", {"crons": ("30 2 29 2 *",)}),
    ("every-minute", {"crons": ("* * * * *",)}),
    ("every-minute-step-one", {"crons": ("*/1 * * * *",)}),
    ("sunday-as-7", {"crons": ("0 12 * * 7",)}),
    ("sunday-twice", {"crons": ("0 12 * * 0,7",)}),
    ("range-to-7", {"crons": ("0 0 * * 5-7",)}),
    ("range-0-7", {"crons": ("0 0 * * 0-7",)}),
    ("odd-days-to-7", {"crons": ("0 0 * * 1/2",)}),
    ("star-step-7", {"crons": ("0 0 * * */7",)}),
    ("star-step-3", {"crons": ("0 0 * * */3",)}),
    ("seven-with-step", {"crons": ("0 0 * * 7/3",)}),
    ("step-missing-7", {"crons": ("0 0 * * 6-7/2",)}),
    ("sunday-mid-list", {"crons": ("0 0 * * 2,5-7,1",)}),
    ("sun-sat-names", {"crons": ("0 0 * * SUN-SAT",)}),
    *[(f"shorthand-{s[1:]}", {"crons": (s,)}) for s in ("@hourly", "@daily", "@midnight", "@weekly", "@monthly",
                                                     "@yearly", "@annually")],
    ("zone-berlin", {"time_zone": "Europe/Berlin", "crons": ("30 2 * * *",)}),
    ("zone-new-york", {"time_zone": "America/New_York"}),
    ("zone-half-hour", {"time_zone": "Asia/Kolkata"}),
    ("zone-utc", {"time_zone": "UTC"}),
    ("jitter", {"jitter": timedelta(minutes=5)}),
    ("jitter-zero", {"jitter": timedelta(0)}),
    ("start-at-future", {"start_at": _SOON + timedelta(days=3)}),
    ("window", {"start_at": _SOON - timedelta(days=1), "end_at": _SOON + timedelta(days=30)}),
    ("window-over", {"end_at": _SOON - timedelta(days=1)}),
    ("max-runs", {"max_runs": 3}),
    ("max-runs-partly-used", {"max_runs": 5, "runs_used": 2}),
    ("paused", {"paused": True, "note": "maintenance"}),
    *[(f"overlap-{p}", {"overlap": p}) for p in OVERLAP_POLICIES],
    ("catch-up-minimum", {"catchup_window": timedelta(seconds=10)}),
    ("catch-up-year", {"catchup_window": timedelta(days=365)}),
    ("retries", {"retry_maximum_attempts": 5, "execution_timeout": timedelta(seconds=5 * 600 + 4 * 100)}),
    ("timeout-short", {"run_timeout": timedelta(seconds=1), "execution_timeout": timedelta(seconds=1)}),
    ("timeout-day", {"run_timeout": timedelta(days=1)}),
    ("custom-workflow", {"workflow_type": "ReportWorkflow", "task_queue": "reports",
                         "args": (run_envelope("sid", "team-a", "alice", 1.5), "x", 3, [1.25, None],
                                  {"ключ": "значение ✓", "nested": {"deep": [True, False]}})}),
    ("no-args", {"args": ()}),
    ("interval", {"crons": (), "intervals": (Interval(timedelta(minutes=90)),)}),
    ("interval-offset", {"crons": (), "intervals": (Interval(timedelta(minutes=90), timedelta(minutes=15)),)}),
    ("interval-days", {"crons": (), "intervals": (Interval(timedelta(days=2), timedelta(hours=3)),),
                       "time_zone": "UTC"}),
    ("two-crons", {"crons": ("0 9 * * 1-5", "0 12 * * 6,0")}),
    ("crons-and-intervals", {"crons": ("0 9 * * *", "@hourly", "30 2 * * 7"),
                             "intervals": (Interval(timedelta(hours=6), timedelta(hours=3)),
                                           Interval(timedelta(minutes=45)))}),
    ("interval-jitter-window", {"crons": (), "intervals": (Interval(timedelta(hours=2), timedelta(minutes=5)),),
                                "jitter": timedelta(minutes=3), "start_at": _SOON - timedelta(days=1),
                                "end_at": _SOON + timedelta(days=30), "max_runs": 4}),
]


def base(ident: ScheduleIdentity) -> DesiredSchedule:
    arg = task_input(ident.schedule_id, "Summarise the news", {"format": "markdown", "n": 3.5}, 2.0, "alice",
                     ident.namespace)
    return DesiredSchedule(crons=("0 9 * * *",), time_zone="Asia/Tokyo", workflow_type="ScheduledTaskWorkflow",
                           task_queue="sundial-tasks", workflow_id=ident.schedule_id, args=(arg,),
                           execution_timeout=timedelta(seconds=600))


def desired(ident: ScheduleIdentity, changes: dict[str, Any]) -> DesiredSchedule:
    return dataclasses.replace(base(ident), **changes)


@pytest.fixture
async def identities(gateway: TemporalGateway, cluster: str) -> AsyncIterator[list[ScheduleIdentity]]:
    made = [ScheduleIdentity(cluster, "corpus", name, f"uid-{name}") for name, _ in CORPUS]
    yield made
    await asyncio.gather(*(gateway.delete(ident.schedule_id) for ident in made))


async def _check(gateway: TemporalGateway, name: str, wanted: DesiredSchedule, sent: WrittenSchedule,
                 before: datetime) -> list[str]:
    """What differs between the write's own account and a describe of it (empty: nothing)."""
    seen = await gateway.describe(sent.schedule_id)  # answers once Temporal has started the schedule
    problems = []
    if sent.fingerprint != seen.fingerprint:
        problems.append(f"{name}: fingerprint {sent.fingerprint} from desired, {seen.fingerprint} described")
    if (sent.limited, sent.remaining_actions) != (seen.limited, seen.remaining_actions):
        problems.append(f"{name}: remaining runs {sent.limited, sent.remaining_actions} written, "
                        f"{seen.limited, seen.remaining_actions} described")
    expected = next_run_after_write(wanted, sent, before)
    if expected is not None and expected > datetime.now(UTC):  # not passed while we waited for the describe
        shown = seen.next_action_times[0] if seen.next_action_times else None
        if shown != expected:
            problems.append(f"{name}: next run {expected} walked, {shown} described")
    return problems


async def test_the_fingerprint_from_what_was_sent_equals_the_described_one(
        gateway: TemporalGateway, identities: list[ScheduleIdentity]) -> None:
    before = datetime.now(UTC)
    wanted = [desired(ident, changes) for ident, (_, changes) in zip(identities, CORPUS, strict=True)]
    created = await asyncio.gather(*(gateway.create(i, d) for i, d in zip(identities, wanted, strict=True)))
    problems = [p for found in await asyncio.gather(*(
        _check(gateway, f"create {name}", d, sent, before)
        for (name, _), d, sent in zip(CORPUS, wanted, created, strict=True))) for p in found]

    # every schedule updated to the next entry's desired schedule (its own ID and arguments kept)
    before = datetime.now(UTC)
    rotated = [desired(ident, CORPUS[(n + 1) % len(CORPUS)][1]) for n, ident in enumerate(identities)]
    updated = await asyncio.gather(*(gateway.update(i.schedule_id, d) for i, d in zip(identities, rotated,
                                                                                     strict=True)))
    problems += [p for found in await asyncio.gather(*(
        _check(gateway, f"update to {CORPUS[(n + 1) % len(CORPUS)][0]}", d, sent, before)
        for n, (d, sent) in enumerate(zip(rotated, updated, strict=True)))) for p in found]

    assert problems == []
    assert gateway.calls["create"]["ok"] == len(CORPUS) and gateway.calls["update"]["ok"] == len(CORPUS)


async def test_the_list_entry_shows_the_listed_part_of_the_fingerprint_from_desired(
        gateway: TemporalGateway, identities: list[ScheduleIdentity], cluster: str) -> None:
    """What the sweep compares: a list entry's fingerprint against the recorded one."""
    sent = await asyncio.gather(*(gateway.create(i, desired(i, c)) for i, (_, c) in zip(identities, CORPUS,
                                                                                          strict=True)))
    wanted = {s.schedule_id: s.listed_fingerprint for s in sent}
    query = f"ScheduleId STARTS_WITH '{cluster_prefix(cluster)}'"

    async def listed() -> dict[str, str] | None:
        entries = {e.schedule_id: e.listed_fingerprint async for e in gateway.list_schedules(query=query)}
        return entries if set(entries) >= set(wanted) else None

    shown = await eventually_async("every corpus schedule in the list", listed, timeout=30, interval=0.3)
    assert {sid: shown[sid] for sid in wanted} == wanted
