"""The side-by-side bench's pure parts: equivalent schedules, the peer's source, the arithmetic."""

from __future__ import annotations

import asyncio
import tarfile
from pathlib import Path

import pytest
from bench import workload as wl
from bench.peer_build import ensure_peer, peer_source_root
from bench.peer_cli import summary
from bench.peer_rounds import net_requests, peer_body
from bench.peer_stack import dev_server_host
from bench.peer_waits import (
    expected_per_namespace,
    fraction_marks,
    pending_namespaces,
    repair_deadline,
    wait_all_back,
)
from temporalio.service import RPCError, RPCStatusCode

from sundial.devstack.build import BuildError

pytestmark = pytest.mark.unit


def test_the_peer_gets_the_schedule_sundial_sends() -> None:
    _, sundial, _ = wl.plain_schedule_ids(1, "x")[0]
    spec = peer_body("bench-p1-0", "s-3")["spec"]
    assert spec["schedule"] == {"calendars": ["0 9 * * *"], "timezoneName": "Asia/Tokyo"}
    start = spec["action"]["startWorkflow"]
    assert (start["workflowType"], start["taskQueue"]) == (sundial.action.workflow, sundial.action.task_queue)
    assert start["workflowRunTimeout"] == "600s" and start["retryPolicy"] == {"maximumAttempts": 1}
    assert spec["policies"] == {"overlapPolicy": "Skip", "catchupWindow": "1h"}
    assert start["args"][0]["task_query"] == sundial.action.args[0]["task_query"]
    assert start["workflowID"] == spec["scheduleID"] == "peer.bench-p1-0.s-3"


def test_dev_server_name_is_the_one_the_peer_dials() -> None:
    assert dev_server_host("bench-p200-0-3") == "dev-devserver.bench-p200-0-3.svc"


def test_idle_requests_are_scaled_to_ten_minutes_net_of_the_server_background() -> None:
    before = {"DescribeSchedule": 10.0, "PollWorkflowTaskQueue": 5.0, "DescribeSchedule seconds": 1.0}
    after = {"DescribeSchedule": 410.0, "PollWorkflowTaskQueue": 35.0, "DescribeSchedule seconds": 9.0}
    assert net_requests(after, before, {"PollWorkflowTaskQueue": 60.0}, 300) == {"DescribeSchedule": 800.0}


def test_ratios_are_taken_within_a_repeat_then_the_median() -> None:
    def side(rate: float) -> dict[str, float]:
        return {"throughput_per_s": rate, "load_average_1m_after": 1.0}

    rounds = [{"plain": side(40), "started": side(10), "sundial": side(8), "peer": side(4)},
              {"plain": side(20), "started": side(5), "sundial": side(5), "peer": side(1)},
              {"plain": side(30), "started": side(10), "sundial": side(6), "peer": side(3)}]
    result = summary(rounds)
    assert result["sundial"]["ratio_to_started"] == 0.8  # 0.8, 1.0, 0.6
    assert result["peer"]["ratio_to_plain"] == 0.1  # 0.1, 0.05, 0.1


def test_an_unset_or_wrong_source_is_refused_with_the_setting_named(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUNDIAL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SUNDIAL_PEER_SOURCE", raising=False)
    with pytest.raises(BuildError, match="SUNDIAL_PEER_SOURCE is not set"):
        ensure_peer()
    with pytest.raises(BuildError, match="no such file"):
        ensure_peer(str(tmp_path / "missing.tar.gz"))
    other = tmp_path / "src" / "other-1.0"
    other.mkdir(parents=True)
    (other / "go.mod").write_text("module example.com/other\n\ngo 1.25\n")
    tarball = tmp_path / "other.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        archive.add(other, arcname="other-1.0")
    with pytest.raises(BuildError, match=r"declares 'module example.com/other', expected github.com/bmorton"):
        ensure_peer(str(tarball))
    assert peer_source_root(tmp_path / "src") == other


def test_readiness_polls_only_namespaces_not_yet_all_ready() -> None:
    keys = [("ns-0", "s-0"), ("ns-0", "s-1"), ("ns-1", "s-2"), ("ns-2", "s-3")]
    expected = expected_per_namespace(keys)
    assert expected == {"ns-0": 2, "ns-1": 1, "ns-2": 1}
    assert pending_namespaces(expected, {"ns-0": 2, "ns-1": 0}) == {"ns-1", "ns-2"}
    assert pending_namespaces(expected, {"ns-0": 2, "ns-1": 1, "ns-2": 1}) == set()


def test_the_repair_deadline_grows_with_the_time_one_pass_through_n_took() -> None:
    assert repair_deadline(0) == 420  # the peer's 5-minute requeue and 2 minutes, as at N=200
    assert repair_deadline(70) == 490


class _FakeHandle:
    def __init__(self, schedules: _FakeSchedules, schedule_id: str) -> None:
        self.schedules, self.schedule_id = schedules, schedule_id

    async def describe(self) -> str:
        self.schedules.described.append(self.schedule_id)
        if self.schedules.described.count(self.schedule_id) < self.schedules.answers_on[self.schedule_id]:
            raise RPCError("not found", RPCStatusCode.NOT_FOUND, b"")
        return self.schedule_id


class _FakeSchedules:
    """The one call of temporalio's Client the repair poll makes: each victim answers from
    its ``answers_on``-th describe on (before that it is still missing)."""

    def __init__(self, answers_on: dict[str, int]) -> None:
        self.answers_on, self.described = answers_on, list[str]()

    def get_schedule_handle(self, schedule_id: str) -> _FakeHandle:
        return _FakeHandle(self, schedule_id)


def test_the_repair_poll_describes_only_the_schedules_not_yet_back() -> None:
    temporal = _FakeSchedules({"a": 1, "b": 3, "c": 2})
    back_after = asyncio.run(wait_all_back(temporal, ["a", "b", "c"], patience=10, interval=0, concurrency=1))
    assert set(back_after) == {"a", "b", "c"} and back_after["a"] <= back_after["c"] <= back_after["b"]
    assert temporal.described == ["a", "b", "c", "b", "c", "b"]


def test_the_repair_poll_gives_up_at_its_deadline_naming_what_is_missing() -> None:
    temporal = _FakeSchedules({"a": 1, "b": 99})
    with pytest.raises(TimeoutError, match=r"1 of 2 schedules deleted out of band not back within 0s \(first: b\)"):
        asyncio.run(wait_all_back(temporal, ["a", "b"], patience=0, interval=0))


def test_repair_progress_is_reported_as_the_seconds_until_half_nine_tenths_and_all_were_back() -> None:
    seconds = [float(s) for s in range(1, 11)]  # ten victims, back after 1..10 s
    assert fraction_marks(reversed(seconds)) == {"50%": 5.0, "90%": 9.0, "100%": 10.0}
    assert fraction_marks([3.0]) == {"50%": 3.0, "90%": 3.0, "100%": 3.0}
