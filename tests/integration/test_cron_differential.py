"""The cron port against a real Temporal server: same expressions, same zones, same run times.

Every (cron, zone) pair of the corpus is created on the dev server as a paused schedule (the
way Sundial sends it: the user's text in ``cron_expressions`` and the zone name), and the
server's ``ListScheduleMatchingTimes`` over two years must equal
:func:`sundial.domain.cron.fire_times`. The corpus is hand-picked daylight-saving cases (zones
east and west of Greenwich, southern hemisphere, half-hour and 45-minute offsets, changes at
midnight), Feb 29, day-of-month AND day-of-week, names and steps, plus seeded random crons.
Expressions Temporal refuses must be refused by :func:`parse_cron` too.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.workflowservice.v1 import ListScheduleMatchingTimesRequest
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleSpec,
    ScheduleState,
)
from temporalio.service import RPCError

from sundial.domain.cron import InvalidCronExpression, fire_times, gap_report, parse_cron

START = datetime(2026, 12, 1, 0, 0, 30, tzinfo=UTC)  # half a minute past: no run sits on an end
END = datetime(2028, 12, 31, 0, 0, 30, tzinfo=UTC)  # 25 months, with 2028-02-29 inside
PAGE = 1000  # the server's cap on matching times per call
CONCURRENCY = 16  # the operator's own Temporal concurrency

WEST = ["America/New_York", "America/Los_Angeles", "America/St_Johns", "America/Havana", "America/Santiago",
        "America/Sao_Paulo", "US/Eastern"]  # fmt: skip
EAST = ["Europe/Berlin", "Europe/London", "Asia/Tokyo", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Adelaide",
        "Australia/Sydney", "Australia/Lord_Howe", "Pacific/Auckland", "Pacific/Chatham", "Africa/Cairo"]  # fmt: skip
FIXED = ["UTC", "Etc/GMT+5", "Asia/Tehran"]

HAND_PICKED: list[tuple[str, str]] = [
    # spring-forward gap and fall-back repeat, west of Greenwich (both occurrences run)
    *[(cron, "America/New_York") for cron in ("30 2 * * *", "30 1 * * *", "0,30 1,2 * * *", "*/15 1-3 * * *",
                                              "0 1,3 * * *", "0 9 * * 3", "0,50 1 * * *", "@hourly")],
    *[(cron, "America/Los_Angeles") for cron in ("33 2 * * *", "33,44 1 * * *", "0 2 * * 0")],
    # east of Greenwich: a repeated time runs once, at either occurrence
    *[(cron, "Europe/Berlin") for cron in ("30 2 * * *", "1 * * * *", "30 2 * * 0", "0,30 2 * * *",
                                           "*/20 1-3 * * 0", "0 1,3 * * *")],
    *[(cron, "Europe/London") for cron in ("30 1 * * *", "0 1 * * *", "59 0,1 * * 0")],
    # southern hemisphere; Santiago changes at midnight (a day that starts in a gap)
    *[(cron, "America/Santiago") for cron in ("0 12 * * 0", "0 0 * * *", "30 0 * * *", "0 0 * * 6,0",
                                              "0 23 * * 6", "0 12 * * 6-7", "15 0,1 1-10 4,9 *")],
    *[(cron, "America/Sao_Paulo") for cron in ("0 0 * * *", "0 12 * * 0")],
    *[(cron, "Australia/Sydney") for cron in ("30 2 * * *", "0 2,3 * * 0", "*/30 1-3 * * *")],
    *[(cron, "Pacific/Auckland") for cron in ("30 2 * * *", "45 1,2 * * 0")],
    # half-hour and 45-minute offsets, and a 30-minute DST shift
    *[(cron, "Asia/Kolkata") for cron in ("0 9 * * *", "30 5 * * 1-5", "0 0 29 2 *")],
    *[(cron, "Asia/Kathmandu") for cron in ("15 0 * * *",)],
    *[(cron, "Australia/Adelaide") for cron in ("30 2 * * *", "15 2 * * 0", "0 3 1-7 4,10 0")],
    *[(cron, "Australia/Lord_Howe") for cron in ("30 1,2 * * *", "0,15,30,45 2 * * *", "*/10 1-2 * * *")],
    *[(cron, "America/St_Johns") for cron in ("30 1 * * *", "0 2 * * *", "59 1,2 * * 0")],
    *[(cron, "Pacific/Chatham") for cron in ("45 2 * * *", "0 3 * * *", "50 2,3 * * 0")],
    # changes at midnight
    *[(cron, "America/Havana") for cron in ("0 0 * * *", "30 0 * * 0", "0 1 * * *")],
    *[(cron, "Africa/Cairo") for cron in ("0 0 * * 5", "30 0 * * *", "0 23 * * 4")],
    # Feb 29, day-of-month AND day-of-week, names, steps, shorthands
    ("0 0 29 2 *", "UTC"), ("0 12 29 2 *", "Asia/Tokyo"), ("0 0 29 2 2", "Europe/Berlin"),
    ("0 0 29 2 1", "UTC"), ("30 23 28,29 2 *", "America/New_York"), ("0 0 29 * *", "Australia/Sydney"),
    ("0 0 13 * 5", "UTC"), ("0 9 1-7 * 1", "America/New_York"), ("0 0 1 * 0", "Europe/London"),
    ("0 0 31 * *", "Asia/Tokyo"), ("0 0 30 1-12 *", "UTC"), ("0 12 8-14 3 0", "America/New_York"),
    ("0 12 25-31 3,10 0", "Europe/Berlin"), ("0 9 * JAN-MAR MON-FRI", "Asia/Kolkata"),
    ("0 0 * * SUN", "Australia/Adelaide"), ("0 0 * december saturday", "UTC"),
    ("5/15 3 * * *", "UTC"), ("*/7 9-17/4 * * *", "Europe/Berlin"), ("0 0 1/10 * *", "America/Santiago"),
    ("0 0 * 2/3 *", "UTC"), ("50/5 0 * * *", "Asia/Tokyo"), ("0  9\t* * *", "UTC"),
    ("@daily", "America/Santiago"), ("@weekly", "Europe/Berlin"), ("@monthly", "Australia/Sydney"),
    ("@yearly", "America/New_York"), ("@midnight", "America/Havana"), ("@annually", "Pacific/Chatham"),
    ("0 0 * * 1", "US/Eastern"), ("0 6 * * *", "Etc/GMT+5"), ("30 3 * * *", "Asia/Tehran"),
    # numbers as Temporal's parser reads them (issue 10): whole numbers, leading zeros
    ("*/0000000015 1-3 * * *", "America/New_York"), ("*/0000000015 9 * * *", "Europe/Berlin"),
    ("0000000005 0000000009 * * *", "America/New_York"), ("0 0 01-007 * *", "UTC"),
    ("*/60 0 * * *", "UTC"), ("0 */24 * * *", "Asia/Kolkata"), ("0 0 */31 * *", "UTC"),
    ("0 0 * * 7", "Europe/Berlin"), ("0 0 * * 5-7", "America/Santiago"), ("0 12 * * */8", "UTC"),
]  # fmt: skip

# Refused by Temporal: Sundial must refuse them too (else the schedule could never be created).
REFUSED_BY_BOTH = [
    "0/2147483648 * * * *",  # 2**31: negative once truncated to 32 bits
    "*/99999999999999999999 * * * *",  # past 64 bits: strconv.Atoi fails
    "*/0 * * * *", "60 * * * *", "0 24 * * *", "0 0 0 * *", "0 0 32 * *", "0 0 * 13 *", "0 0 * * 8",
    "5-3 * * * *", "1,,2 * * * *", "JAN * * * *", "0 0 * FOO *", "0 0 * *", "0 0 0 0 0 0 0 0",
]  # fmt: skip
# Accepted by Temporal with a reading the writer did not mean; Sundial refuses them. Each maps to
# what Temporal actually runs (checked on the server over two weeks) and to Sundial's refusal.
STEP_TOO_WIDE = "is larger than the field's range"
NO_SUNDAY = "would never run on Sunday"
STRICTER: dict[str, tuple[str, str]] = {
    "0/4294967296 * * * *": ("* * * * *", STEP_TOO_WIDE),  # 2**32 keeps 0 bits: a step of 0 is taken as 1
    "*/4294967311 * * * *": ("*/15 * * * *", STEP_TOO_WIDE),  # 2**32 + 15
    "*/61 * * * *": ("0 * * * *", STEP_TOO_WIDE),  # a step past the range: one value
    "0 0/100 * * *": ("0 0 * * *", STEP_TOO_WIDE),
    "0 12 * * 1-7": ("0 12 * * 1-6", NO_SUNDAY),  # Temporal turns 1-7 into 1-6
    "0 12 * * 1/1": ("0 12 * * 1-6", NO_SUNDAY),
    "0 12 * * mon-7": ("0 12 * * 1-6", NO_SUNDAY),
}


def _random_field(rng: random.Random, low: int, high: int, dense: bool) -> str:
    """One cron field: a value, a list, a range, a stepped range or star, a stepped star."""
    kind = rng.choice(["value", "value", "list", "range", "step-range", "star-step", "from-step"]
                      + (["star", "star"] if dense else []))  # fmt: skip
    if kind == "star":
        return "*"
    if kind == "value":
        return str(rng.randint(low, high))
    if kind == "list":
        return ",".join(str(v) for v in sorted(rng.sample(range(low, high + 1), rng.randint(2, 3))))
    a = rng.randint(low, high - 1)
    b = rng.randint(a + 1, high)
    step = rng.randint(2, max(2, (high - low) // 3))
    return {"range": f"{a}-{b}", "step-range": f"{a}-{b}/{step}", "star-step": f"*/{step}",
            "from-step": f"{a}/{step}"}[kind]  # fmt: skip


def random_corpus(count: int, seed: int = 9) -> list[tuple[str, str]]:
    """Seeded random crons that run at most 6 times a day (so 25 months stay cheap), in zones of every kind."""
    rng = random.Random(seed)
    corpus: list[tuple[str, str]] = []
    zones = WEST + EAST + FIXED
    while len(corpus) < count:
        minute = _random_field(rng, 0, 59, dense=False)
        hour = _random_field(rng, 0, 23, dense=True)
        dom = rng.choice(["*", "*", "*", _random_field(rng, 1, 31, dense=False)])
        month = rng.choice(["*", "*", _random_field(rng, 1, 12, dense=False)])
        dow = rng.choice(["*", "*", "*", _random_field(rng, 0, 7, dense=False)])
        expression = f"{minute} {hour} {dom} {month} {dow}"
        try:
            cron = parse_cron(expression)
        except InvalidCronExpression:
            continue  # e.g. a date that never exists; refusals are checked below
        if len(cron.minutes) * len(cron.hours) <= 6:
            corpus.append((expression, rng.choice(zones)))
    return corpus


CORPUS = HAND_PICKED + random_corpus(160)


@dataclass
class ServerAnswer:
    times: list[datetime] | None  # None: the server refused the expression
    error: str = ""


def _stamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


async def _matching_times(client: Client, schedule_id: str, start: datetime, end: datetime) -> list[datetime]:
    """Every matching time in (start, end], a page of up to 1000 at a time."""
    times: list[datetime] = []
    while True:
        request = ListScheduleMatchingTimesRequest(
            namespace=client.namespace, schedule_id=schedule_id, start_time=_stamp(start), end_time=_stamp(end)
        )
        response = await client.workflow_service.list_schedule_matching_times(request)
        page = [t.ToDatetime(tzinfo=UTC) for t in response.start_time]
        times.extend(page)
        if len(page) < PAGE:
            return times
        start = page[-1]


async def ask_temporal(
    client: Client, cases: Sequence[tuple[str, str]], start: datetime = START, end: datetime = END
) -> list[ServerAnswer]:
    """Create each case as a paused schedule, read its matching times, delete it (16 at a time)."""
    gate = asyncio.Semaphore(CONCURRENCY)
    run = uuid.uuid4().hex[:8]

    async def one(index: int, expression: str, zone: str) -> ServerAnswer:
        schedule_id = f"cron-diff-{run}-{index}"
        schedule = Schedule(
            action=ScheduleActionStartWorkflow("CronDifferentialNeverRuns", id=f"wf-{schedule_id}",
                                               task_queue="cron-differential"),
            spec=ScheduleSpec(cron_expressions=[expression], time_zone_name=zone),
            state=ScheduleState(paused=True),
        )  # fmt: skip
        async with gate:
            try:
                handle = await client.create_schedule(schedule_id, schedule)
            except RPCError as exc:
                return ServerAnswer(None, f"create: {exc}")
            try:  # a server that keeps an invalid schedule answers this with "invalid schedule"
                return ServerAnswer(await _matching_times(client, schedule_id, start, end))
            except RPCError as exc:
                return ServerAnswer(None, f"list: {exc}")
            finally:
                await handle.delete()

    return list(await asyncio.gather(*(one(i, e, z) for i, (e, z) in enumerate(cases))))


EDGE_START = datetime(2027, 3, 3, 0, 0, 30, tzinfo=UTC)
EDGE_END = EDGE_START + timedelta(days=14)  # two weeks, so every weekday is seen


@pytest.fixture(scope="module")
async def answers(temporal_client: Client) -> AsyncIterator[list[ServerAnswer]]:
    yield await ask_temporal(temporal_client, CORPUS)


@pytest.fixture(scope="module")
async def edge_answers(temporal_client: Client) -> AsyncIterator[dict[str, ServerAnswer]]:
    cases = [(expression, "UTC") for expression in [*REFUSED_BY_BOTH, *STRICTER]]
    found = await ask_temporal(temporal_client, cases, EDGE_START, EDGE_END)
    yield {expression: answer for (expression, _), answer in zip(cases, found, strict=True)}


def _local(moments: Sequence[datetime], zone: str) -> list[str]:
    return [m.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z") for m in moments]


def test_the_corpus_is_large_and_covers_the_zones() -> None:
    assert len(CORPUS) >= 200
    assert {zone for _, zone in CORPUS} >= set(WEST + EAST + FIXED)


def port_times(expression: str, zone: str, start: datetime = START, end: datetime = END) -> list[datetime] | str:
    """The port's run times, or its refusal message."""
    try:
        return list(fire_times(parse_cron(expression), ZoneInfo(zone), start, end))
    except InvalidCronExpression as exc:
        return str(exc)


def difference(expression: str, zone: str, ours: list[datetime] | str, answer: ServerAnswer) -> str | None:
    """A one-line account of how the port and Temporal disagree, or None when they agree."""
    if isinstance(ours, str) or answer.times is None:
        if isinstance(ours, str) and answer.times is None:
            return None
        theirs = answer.error if answer.times is None else f"{len(answer.times)} runs"
        return f"{expression!r} in {zone}: port {ours if isinstance(ours, str) else len(ours)}; Temporal {theirs}"
    if ours == answer.times:
        return None
    at = next((i for i, (a, b) in enumerate(zip(ours, answer.times, strict=False)) if a != b),
              min(len(ours), len(answer.times)))  # fmt: skip
    return (
        f"{expression!r} in {zone}: {len(ours)} runs vs Temporal's {len(answer.times)}; from run {at}: "
        f"port {_local(ours[at:at + 3], zone)} Temporal {_local(answer.times[at:at + 3], zone)}"
    )


async def test_port_fire_times_equal_temporal_matching_times(answers: list[ServerAnswer]) -> None:
    differences = [
        line
        for (expression, zone), answer in zip(CORPUS, answers, strict=True)
        if (line := difference(expression, zone, port_times(expression, zone), answer)) is not None
    ]
    assert not differences, f"{len(differences)} of {len(CORPUS)} differ:\n" + "\n".join(differences)


async def test_the_minimum_gap_is_never_more_than_a_gap_temporal_runs(answers: list[ServerAnswer]) -> None:
    # The minimum-interval rule rests on gap_report: no two consecutive runs on the server may be
    # closer than it says (it covers 28 years, so it may be smaller than these 25 months show).
    too_large = []
    for (expression, zone), answer in zip(CORPUS, answers, strict=True):
        if answer.times is None or len(answer.times) < 2:
            continue
        closest = min(b - a for a, b in pairwise(answer.times))
        gap = gap_report(parse_cron(expression), ZoneInfo(zone), START).gap
        if gap is None or gap > closest:
            too_large.append(f"{expression!r} in {zone}: gap_report {gap}, Temporal ran {closest} apart")
    assert not too_large, "\n".join(too_large)


@pytest.mark.parametrize("expression", REFUSED_BY_BOTH)
def test_what_temporal_refuses_the_port_refuses(expression: str, edge_answers: dict[str, ServerAnswer]) -> None:
    answer = edge_answers[expression]
    assert answer.times is None, f"Temporal accepted {expression!r}: {len(answer.times)} runs in a day"
    with pytest.raises(InvalidCronExpression):
        parse_cron(expression)


@pytest.mark.parametrize(("expression", "temporal_reads", "refusal"), [(e, *r) for e, r in STRICTER.items()])
def test_what_temporal_misreads_is_refused(
    expression: str, temporal_reads: str, refusal: str, edge_answers: dict[str, ServerAnswer]
) -> None:
    answer = edge_answers[expression]
    assert answer.times is not None, answer.error
    assert answer.times == port_times(temporal_reads, "UTC", EDGE_START, EDGE_END)
    with pytest.raises(InvalidCronExpression, match=refusal):
        parse_cron(expression)
