"""The desired Temporal schedule, its identity and the plan, as tables of cases."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sundial.domain.cron import Interval
from sundial.domain.desired import (
    DesiredSchedule,
    ListedSchedule,
    ObservedSchedule,
    Plan,
    Recorded,
    ScheduleIdentity,
    cluster_prefix,
    fingerprint_matches,
    identity_from_memo,
    parse_schedule_id,
    plan,
    spec_hash,
    task_input,
)

IDENTITY = ScheduleIdentity(cluster_id="c0ffee-uid", namespace="team-a", name="daily-ai-news", uid="uid-1")
DESIRED = DesiredSchedule(crons=("0 9 * * *",), time_zone="Asia/Tokyo", workflow_type="ScheduledTaskWorkflow",
                          task_queue="sundial-tasks", workflow_id=IDENTITY.schedule_id, args=({"q": 1},))
RECORDED = Recorded(spec_hash=spec_hash(DESIRED), fingerprint="aaaa.bbbb")

dns_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
dns_name = st.from_regex(r"[a-z0-9]([a-z0-9.-]{0,40}[a-z0-9])?", fullmatch=True)


def identity(namespace: str = "team-a", name: str = "daily-ai-news", cluster: str = "c0ffee-uid",
             uid: str = "uid-1") -> ScheduleIdentity:
    return ScheduleIdentity(cluster_id=cluster, namespace=namespace, name=name, uid=uid)


def observed(**changes: Any) -> ObservedSchedule:
    base = ObservedSchedule(schedule_id=IDENTITY.schedule_id, memo=IDENTITY.memo(), paused=False, note="",
                            workflow_type="ScheduledTaskWorkflow", task_queue="sundial-tasks",
                            fingerprint="aaaa.bbbb")
    return dataclasses.replace(base, **changes)


def listed(**changes: Any) -> ListedSchedule:
    base = ListedSchedule(schedule_id=IDENTITY.schedule_id, memo=IDENTITY.memo(), paused=False, note="",
                          workflow_type="ScheduledTaskWorkflow", listed_fingerprint="aaaa")
    return dataclasses.replace(base, **changes)


def test_schedule_id_is_deterministic() -> None:
    assert identity().schedule_id == identity().schedule_id
    assert identity().schedule_id == f"sundial.{identity().schedule_id.split('.')[1]}.team-a.daily-ai-news"


def test_schedule_id_does_not_depend_on_uid() -> None:
    assert identity(uid="a").schedule_id == identity(uid="b").schedule_id


@pytest.mark.parametrize(("one", "other"), [
    (identity("a-b", "c"), identity("a", "b-c")),
    (identity("a", "b.c"), identity("a", "b-c")),
    (identity(cluster="one"), identity(cluster="two")),
    (identity("a", "b"), identity("b", "a")),
])
def test_schedule_id_is_unique_per_cluster_namespace_and_name(one: ScheduleIdentity,
                                                              other: ScheduleIdentity) -> None:
    assert one.schedule_id != other.schedule_id


@pytest.mark.parametrize(("namespace", "name"), [("a.b", "c"), ("", "c"), ("a", "")])
def test_an_identity_that_could_collide_is_refused(namespace: str, name: str) -> None:
    with pytest.raises(ValueError, match="namespace"):
        identity(namespace, name)


def test_schedule_id_stays_far_below_temporals_id_limit() -> None:
    longest = identity(namespace="n" * 63, name="x" * 253)
    assert len(longest.schedule_id) <= 400


@given(cluster=st.text(min_size=1, max_size=40), namespace=dns_label, name=dns_name)
def test_schedule_id_parses_back(cluster: str, namespace: str, name: str) -> None:
    one = identity(namespace, name, cluster)
    assert one.schedule_id.startswith(cluster_prefix(cluster))
    assert parse_schedule_id(one.schedule_id) == (one.schedule_id.split(".")[1], namespace, name)


@pytest.mark.parametrize("other", ["sched-1", "sundial.abc", "sundial..ns.name", "other.abc.ns.name"])
def test_other_ids_do_not_parse(other: str) -> None:
    assert parse_schedule_id(other) is None


def test_memo_has_exactly_the_spec_keys() -> None:
    assert IDENTITY.memo() == {
        "sundial.dev/managed-by": "sundial", "sundial.dev/cluster-id": "c0ffee-uid",
        "sundial.dev/namespace": "team-a", "sundial.dev/name": "daily-ai-news", "sundial.dev/uid": "uid-1"}


def test_memo_round_trips() -> None:
    assert identity_from_memo(IDENTITY.memo()) == IDENTITY


@pytest.mark.parametrize("memo", [
    {},
    {**IDENTITY.memo(), "sundial.dev/managed-by": "someone-else"},
    {key: value for key, value in IDENTITY.memo().items() if key != "sundial.dev/uid"},
    {**IDENTITY.memo(), "sundial.dev/name": ""},
    {**IDENTITY.memo(), "sundial.dev/namespace": 7},
    {**IDENTITY.memo(), "sundial.dev/namespace": "a.b"},
])
def test_a_memo_that_is_not_sundials_names_nobody(memo: dict[str, Any]) -> None:
    assert identity_from_memo(memo) is None


def test_task_input_matches_the_spec() -> None:
    context = {"output_format": "markdown", "max_sources": 10}
    got = task_input("sid", "Generate a digest", context, 2.0, "alice", "team-a")
    assert got == {
        "schedule_id": "sid", "task_query": "Generate a digest",
        "task_context": {"output_format": "markdown", "max_sources": 10, "max_budget_usd": 2.0},
        "max_budget_per_run_usd": 2.0, "user_id": "alice", "tenant_id": "team-a"}


def test_task_input_leaves_the_context_alone() -> None:
    context: dict[str, Any] = {"nested": {"a": 1}}
    got = task_input("sid", "q", context, 1.0, "u", "t")
    got["task_context"]["nested"]["a"] = 2
    assert context == {"nested": {"a": 1}}


def test_task_input_without_context_still_carries_the_budget() -> None:
    assert task_input("sid", "q", None, 3.5, "u", "t")["task_context"] == {"max_budget_usd": 3.5}


def test_unknown_overlap_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="Skip"):
        dataclasses.replace(DESIRED, overlap="skip")


def test_spec_hash_is_stable() -> None:
    assert spec_hash(DESIRED) == spec_hash(dataclasses.replace(DESIRED))
    assert len(spec_hash(DESIRED)) == 16


def test_spec_hash_ignores_pause_state() -> None:
    assert spec_hash(DESIRED) == spec_hash(dataclasses.replace(DESIRED, paused=True, note="maintenance"))


def test_spec_hash_compares_instants_not_zones() -> None:
    utc = dataclasses.replace(DESIRED, start_at=datetime(2026, 1, 1, tzinfo=UTC))
    naive = dataclasses.replace(DESIRED, start_at=datetime(2026, 1, 1))
    jst = timezone(timedelta(hours=9))
    tokyo = dataclasses.replace(DESIRED, start_at=datetime(2026, 1, 1, 9, tzinfo=jst))
    assert spec_hash(utc) == spec_hash(naive) == spec_hash(tokyo)


@pytest.mark.parametrize("change", [
    {"crons": ("0 10 * * *",)}, {"crons": ("0 9 * * *", "0 10 * * *")},
    {"intervals": (Interval(timedelta(minutes=90)),)}, {"time_zone": "UTC"},
    {"start_at": datetime(2026, 1, 1, tzinfo=UTC)},
    {"end_at": datetime(2027, 1, 1, tzinfo=UTC)}, {"jitter": timedelta(seconds=30)},
    {"workflow_type": "Other"}, {"task_queue": "q2"}, {"workflow_id": "x"}, {"args": ({"q": 2},)},
    {"run_timeout": timedelta(seconds=601)}, {"retry_maximum_attempts": 2}, {"overlap": "AllowAll"},
    {"catchup_window": timedelta(minutes=5)},
])
def test_spec_hash_sees_every_written_field(change: dict[str, Any]) -> None:
    assert spec_hash(dataclasses.replace(DESIRED, **change)) != spec_hash(DESIRED)


def test_a_listed_fingerprint_is_held_against_the_listed_part_only() -> None:
    assert fingerprint_matches("aaaa.bbbb", listed(listed_fingerprint="aaaa"))
    assert not fingerprint_matches("aaaa.bbbb", listed(listed_fingerprint="cccc"))
    assert fingerprint_matches("aaaa.bbbb", observed())
    assert not fingerprint_matches("aaaa.bbbb", observed(fingerprint="aaaa.cccc"))
    assert observed().listed_fingerprint == "aaaa"


PAUSED = dataclasses.replace(DESIRED, paused=True, note="maintenance")
OTHER_UID = identity(uid="uid-0").memo()
FOREIGN = identity(cluster="another-cluster").memo()
CASES: list[tuple[str, DesiredSchedule, ObservedSchedule | ListedSchedule | None, Recorded | None, Plan]] = [
    ("missing in Temporal is created", DESIRED, None, RECORDED, Plan(create=True)),
    ("missing and never recorded is created", DESIRED, None, None, Plan(create=True)),
    ("in step does nothing", DESIRED, observed(), RECORDED, Plan()),
    ("in step by list entry does nothing", DESIRED, listed(), RECORDED, Plan()),
    ("spec edit updates", dataclasses.replace(DESIRED, crons=("0 10 * * *",)), observed(), RECORDED,
     Plan(update=True)),
    ("out-of-band edit updates", DESIRED, observed(fingerprint="aaaa.cccc"), RECORDED, Plan(update=True)),
    ("out-of-band edit seen in a list updates", DESIRED, listed(listed_fingerprint="dddd"), RECORDED,
     Plan(update=True)),
    ("not yet recorded is adopted by an update", DESIRED, observed(), None, Plan(update=True)),
    ("spec edit while paused updates (the update carries the pause)",
     dataclasses.replace(PAUSED, crons=("@daily",)), observed(), RECORDED, Plan(update=True)),
    ("pause requested pauses", PAUSED, observed(), RECORDED, Plan(set_paused=True)),
    ("unpaused out of band is paused again", PAUSED, listed(), RECORDED, Plan(set_paused=True)),
    ("paused out of band is unpaused", DESIRED, observed(paused=True, note="by hand"), RECORDED,
     Plan(set_paused=False)),
    ("paused with another note gets ours", PAUSED, observed(paused=True, note="by hand"), RECORDED,
     Plan(set_paused=True)),
    ("paused with our note does nothing", PAUSED, observed(paused=True, note="maintenance"), RECORDED,
     Plan()),
    ("a note on a running schedule is left alone", DESIRED, observed(note="hello"), RECORDED, Plan()),
    ("an earlier resource's schedule is recreated", DESIRED, observed(memo=OTHER_UID), RECORDED,
     Plan(recreate=True)),
]


@pytest.mark.parametrize(("desired", "seen", "recorded", "expected"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_plan(desired: DesiredSchedule, seen: ObservedSchedule | ListedSchedule | None,
              recorded: Recorded | None, expected: Plan) -> None:
    got = plan(IDENTITY, desired, seen, recorded)
    assert got == expected
    assert got.nothing == (expected == Plan())
    assert got.reasons or got.nothing


@pytest.mark.parametrize("memo", [{}, FOREIGN, {"sundial.dev/managed-by": "sundial"}], ids=["none", "foreign",
                                                                                              "partial"])
def test_a_schedule_that_is_not_ours_is_a_conflict_and_never_touched(memo: dict[str, str]) -> None:
    got = plan(IDENTITY, DESIRED, observed(memo=memo), RECORDED)
    assert got.conflict and not (got.create or got.update or got.recreate) and got.set_paused is None
    assert not got.nothing
