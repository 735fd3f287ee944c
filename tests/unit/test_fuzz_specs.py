"""Random and hostile specs through the whole path, from the resource body to the Temporal SDK's bytes.

    spec body -> check_spec (models + rules + quota) -> desired_from_spec -> build_schedule
              -> the SDK's payload conversion and proto encoding

Every spec must end in one of two ways: a clean refusal (``SpecInvalid`` with a short,
printable message), or an accepted schedule that keeps every limit: its smallest gap as
the cron module computes it with Temporal's semantics, minus the jitter, is at least the
minimum interval; the run input carries the operator's identity and capped budget; retries
are bounded; every duration and instant survives the protobuf encoding unchanged.

``python -m tests.unit.test_fuzz_specs [N]`` prints the tally (tried / crashed /
accepted-but-wrong / clear refusals / unclear refusals) for N examples.
"""

from __future__ import annotations

import asyncio
import math
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from temporalio.converter import DataConverter

from sundial.adapters.temporal_mapping import build_schedule
from sundial.domain.cron import gap_report, parse_cron
from sundial.domain.desired import ScheduleIdentity
from sundial.domain.rules import Limits, load_zone
from sundial.domain.translate import WorkflowDefaults, desired_from_spec, spec_pause
from sundial.domain.validation import Peers, check_spec
from sundial.errors import SpecInvalid

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LIMITS = Limits()
IDENTITY = ScheduleIdentity("cluster-1", "team-a", "digest", "uid-1")
META = {"namespace": "team-a", "name": "digest", "creationTimestamp": "2026-06-01T00:00:00Z"}
CREATOR = "alice"
MESSAGE_LIMIT = 1100  # refusals are shortened to about 1 KB
_CLIENT = SimpleNamespace(data_converter=DataConverter.default, namespace="default")  # what _to_proto reads

# --- strategies --------------------------------------------------------------------------------------

_WEIRD_TEXT = ["", " ", "\u00a0", "\x0b", "\u202e", "\u200b", "a" * 5000, "9" * 400, "\x00", "é", "日本"]
_NUMBERS: list[Any] = [0, -1, 1, 2, 59, 60, 10**15, 2**31, 2**63, 10**400, 1e12, 1e308, -0.0, 0.5,
                       float("nan"), float("inf"), float("-inf"), True, "5", None]
_CRONS = ["0 9 * * *", "@hourly", "@daily", "*/5 * * * *", "0 * * * *", "0,59 * * * *", "0 */2 * * *",
          "0 0 29 2 *", "0 0 30 2 *", "*/0000000015 * * * *", "0/4294967296 * * * *", "0/2147483648 * * * *",
          "0 0 * * 7", "0 1-3 * * *", "30 1,2 * * *", "0 0 1 1 *", "0 9 * * MON-FRI", "* * * * *",
          "0 0 * * * *", "0 25 * * *", "@every 1m", "0\u00a09 * * *", "0 9 * * *\x0b"]
_SANE_CRONS = ["0 9 * * *", "@daily", "@hourly", "0 */2 * * *", "30 1,2 * * *", "0 9 * * MON-FRI"]
_ZONES = ["UTC", "Asia/Tokyo", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kathmandu",
          "posixrules", "right/UTC", "Local", "Etc/GMT+14", "../etc/passwd", "Nowhere/Land", "utc"]
_DURATIONS = ["0", "1s", "30s", "59m", "1h", "1h1s", "24h", "11000000000h", "12000000001h", "1e3s", "-1h",
              "1.5h", "500ms", "0.0000001ms", "9" * 40 + "h", "1h\u00a0"]
_INSTANTS = ["2026-01-01T00:00:00Z", "2030-01-01T00:00:00Z", "2020-01-01T00:00:00Z",
             "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-06-01T11:00:00Z",
             "2026-06-01T13:00:00+00:00", "not a date", "2026-02-30T00:00:00Z"]


def json_values(max_leaves: int = 30) -> st.SearchStrategy[Any]:
    leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
                       st.sampled_from(_WEIRD_TEXT))
    return st.recursive(leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.text(max_size=8), inner, max_size=4), max_leaves=max_leaves)


def deep(depth: int) -> Any:
    value: Any = "bottom"
    for level in range(depth):
        value = {"k": value} if level % 2 else [value]
    return value


_FORGED = {"schedule_id": "sundial.other.team-b.x", "tenant_id": "team-b", "user_id": "admin",
           "max_budget_per_run_usd": 1e9, "task_query": "anything", "task_context": {"max_budget_usd": 1e9}}


def pick(values: list[Any], extra: st.SearchStrategy[Any] | None = None, sane: list[Any] | None = None,
         ) -> st.SearchStrategy[Any]:
    """Hostile ``values`` (and ``extra``), and about half the time one of the ``sane`` ones, so that
    many specs get past the first refusal and the deeper rules and the encoding are reached."""
    choices = st.sampled_from(values)
    hostile = choices | extra if extra is not None else choices
    return st.one_of(st.sampled_from(sane), hostile) if sane else hostile


def specs() -> st.SearchStrategy[dict[str, Any]]:
    """A base spec with any subset of its fields replaced by random or hostile values."""
    task = st.fixed_dictionaries(
        {"query": pick(_WEIRD_TEXT, st.text(max_size=50), ["Summarise the news"])},
        optional={"context": st.one_of(st.dictionaries(st.text(max_size=8), json_values(), max_size=5),
                                       st.integers(30, 120).map(lambda d: {"nested": deep(d)}),
                                       st.just({"blob": "x" * 200_000}), st.just(_FORGED))},
    )
    workflow = st.fixed_dictionaries({}, optional={
        "type": pick(["OtherTeamWorkflow", *_WEIRD_TEXT], sane=["ScheduledTaskWorkflow"]),
        "taskQueue": pick(["team-b-queue", *_WEIRD_TEXT], sane=["sundial-tasks"]),
        "args": st.one_of(st.lists(json_values(), max_size=3), st.just([_FORGED]), st.just([]),
                          st.integers(30, 120).map(lambda d: [deep(d)])),
        "retry": st.fixed_dictionaries({}, optional={"maximumAttempts": pick(_NUMBERS, st.integers(), [1, 3, 5])}),
    })
    policy = st.fixed_dictionaries({}, optional={
        "overlap": pick(["skip", ""], sane=["Skip", "AllowAll", "BufferAll"]),
        "catchupWindow": pick(_DURATIONS, sane=["1m", "1h"]),
        "maxConsecutiveFailures": pick(_NUMBERS, sane=[0, 3]),
        "maxTotalBudgetUSD": pick(_NUMBERS, st.floats(), [5.0, 100.0]),
    })
    spec = st.fixed_dictionaries(
        {"schedule": pick(_CRONS, st.text(max_size=30), _SANE_CRONS), "task": task},
        optional={
            "timeZone": pick(_ZONES, sane=["UTC", "Asia/Tokyo", "America/New_York", "Australia/Lord_Howe"]),
            "jitter": pick(_DURATIONS, sane=["30s", "5m", "1h"]),
            "startAt": pick(_INSTANTS, sane=["2026-01-01T00:00:00Z"]),
            "endAt": pick(_INSTANTS, sane=["2030-01-01T00:00:00Z"]),
            "displayName": pick(_WEIRD_TEXT, sane=["日次サマリー"]), "description": pick(_WEIRD_TEXT, sane=["digest"]),
            "timeoutSeconds": pick(_NUMBERS, st.integers(), [60, 600]),
            "maxBudgetPerRunUSD": pick(_NUMBERS, st.floats(), [0.5, 2.0]),
            "workflow": workflow, "policy": policy, "paused": st.booleans(),
        },
    )
    return st.tuples(spec, st.integers(0, 15)).map(lambda drawn: _task_or_args(
        {**drawn[0], "surprise": 1} if drawn[1] == 0 else drawn[0]))


def _task_or_args(spec: dict[str, Any]) -> dict[str, Any]:
    """Mostly valid pairs of task / workflow.args, so the deeper rules are reached too."""
    if "args" in (spec.get("workflow") or {}) and len(str(spec["schedule"])) % 3:
        spec = {key: value for key, value in spec.items() if key != "task"}
    return spec


# --- the path and its verdict ------------------------------------------------------------------------


def _printable(message: str) -> bool:
    return all(ch.isprintable() for ch in message)


def _gap_ok(spec: Any, jitter: timedelta | None) -> bool:
    report = gap_report(parse_cron(spec.schedule), load_zone(spec.time_zone), NOW)
    if report.gap is None:
        return True
    return report.gap - (jitter or timedelta(0)) >= timedelta(minutes=LIMITS.min_interval_minutes)


def _wrong(spec: Any, desired: Any, proto: Any) -> list[str]:
    """What an accepted spec got wrong (empty: nothing)."""
    problems = []
    if not _gap_ok(spec, desired.jitter):
        problems.append("gap minus jitter below the minimum interval")
    first = desired.args[0] if desired.args else None
    if not isinstance(first, dict) or (first.get("schedule_id"), first.get("tenant_id"), first.get("user_id")) != (
            IDENTITY.schedule_id, IDENTITY.namespace, CREATOR):
        problems.append("run input without the operator's identity")
    elif not first.get("max_budget_per_run_usd", math.inf) <= LIMITS.max_budget_usd:
        problems.append("run input budget over the cap")
    start = proto.action.start_workflow
    if not 1 <= start.retry_policy.maximum_attempts <= 5:
        problems.append("unbounded retries")
    if not start.HasField("workflow_execution_timeout"):
        problems.append("no execution timeout")
    sent = [(start.workflow_run_timeout, desired.run_timeout), (proto.policies.catchup_window, desired.catchup_window)]
    if desired.jitter is not None:
        sent.append((proto.spec.jitter, desired.jitter))
    if any(encoded.ToTimedelta() != wanted for encoded, wanted in sent):
        problems.append("a duration changed by protobuf")
    for encoded_time, wanted_time in ((proto.spec.start_time, desired.start_at), (proto.spec.end_time, desired.end_at)):
        if wanted_time is not None and encoded_time.ToDatetime(UTC) != wanted_time.astimezone(UTC):
            problems.append("an instant changed by protobuf")
    if desired.end_at is not None and desired.end_at <= NOW:
        problems.append("a window that has already ended")
    return problems


def verdict(body: dict[str, Any]) -> tuple[str, str]:
    """("refused" | "unclear-refusal" | "accepted" | "wrong" | "crashed", detail)."""
    try:
        spec = check_spec(body, META, Peers(), LIMITS, NOW)
    except SpecInvalid as refusal:
        clear = _printable(refusal.message) and len(refusal.message) <= MESSAGE_LIMIT and refusal.field
        return ("refused" if clear else "unclear-refusal"), refusal.message[:200]
    except Exception as exc:
        return "crashed", f"check_spec: {type(exc).__name__}: {str(exc)[:200]}"
    try:
        desired = desired_from_spec(spec, IDENTITY, WorkflowDefaults(), CREATOR, spec_pause(spec))
        proto = asyncio.run(build_schedule(desired)._to_proto(_CLIENT))  # type: ignore[arg-type]
        proto.SerializeToString()
    except Exception as exc:
        return "crashed", f"encoding: {type(exc).__name__}: {str(exc)[:200]}"
    problems = _wrong(spec, desired, proto)
    return ("wrong", "; ".join(problems)) if problems else ("accepted", "")


_BOUNDED = settings(max_examples=300, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@_BOUNDED
@given(specs())
def test_every_spec_is_refused_cleanly_or_accepted_within_the_limits(body: dict[str, Any]) -> None:
    outcome, detail = verdict(body)
    assert outcome in ("refused", "accepted"), f"{outcome}: {detail}\nspec: {str(body)[:2000]}"


@pytest.mark.parametrize("depth", [64, 600, 1000])
def test_deep_objects_are_refused_not_crashed(depth: int) -> None:
    body = {"schedule": "0 9 * * *", "task": {"query": "q", "context": {"nested": deep(depth)}}}
    assert verdict(body)[0] == "refused"


def tally(examples: int) -> Counter[str]:
    """How many of ``examples`` random specs end each way (for the closing note)."""
    counts: Counter[str] = Counter()
    samples: dict[str, str] = {}

    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(specs())
    def run(body: dict[str, Any]) -> None:
        outcome, detail = verdict(body)
        counts[outcome] += 1
        samples.setdefault(f"{outcome}: {detail[:60]}", str(body)[:300])

    run()
    counts["tried"] = sum(counts.values())
    for key in sorted(samples):
        if not key.startswith("refused"):
            print(key, "<-", samples[key][:150], file=sys.stderr)
    return counts


if __name__ == "__main__":
    print(dict(tally(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)))
