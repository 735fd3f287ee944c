"""The side-by-side bench's pure parts: equivalent schedules, the peer's source, the arithmetic."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from bench import workload as wl
from bench.peer_build import ensure_peer, peer_source_root
from bench.peer_cli import summary
from bench.peer_rounds import net_requests, peer_body
from bench.peer_stack import dev_server_host

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
