"""What ``sundial runs`` shows of a run's input and result, and what that costs per page."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.api.common.v1 import Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.converter import DataConverter

from sundial.adapters.temporal_history import input_from_start_event, outcome_from_close_event
from sundial.adapters.temporal_runs import RunPage
from sundial.commands.runs import collect, parse_query, render_table
from sundial.domain.contract import TaskResult
from sundial.domain.run_records import RunInfo, RunOutcome, run_io

SID = "sundial.0123456789ab.team-a.digest"
T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
CONVERTER = DataConverter.default.payload_converter


def payloads(value: Any) -> Payloads:
    return Payloads(payloads=CONVERTER.to_payloads([value]))


def test_the_query_is_read_from_the_started_event() -> None:
    event = HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)
    event.workflow_execution_started_event_attributes.input.CopyFrom(payloads({"task_query": "summarize PRs"}))
    assert input_from_start_event(event) == {"task_query": "summarize PRs"}
    assert input_from_start_event(HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)) is None


def test_a_completed_close_event_carries_the_result() -> None:
    event = HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)
    event.workflow_execution_completed_event_attributes.result.CopyFrom(
        payloads(TaskResult("completed", "the digest", total_cost_usd=0.5).to_dict()))
    outcome = outcome_from_close_event(event)
    assert outcome is not None and outcome.result == "the digest" and outcome.task_result is not None
    other = HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)
    other.workflow_execution_completed_event_attributes.result.CopyFrom(payloads([1, 2]))
    assert outcome_from_close_event(other) == RunOutcome("COMPLETED", None, result=[1, 2])


@pytest.mark.parametrize(("task_input", "result", "limit", "expected"), [
    ({"task_query": "q"}, "answer", 100, {"query": "q", "result": "answer", "resultChars": 6}),
    ({"task_query": "q"}, "x" * 5000, 2000, {"query": "q", "result": "x" * 2000, "resultChars": 5000}),
    ({"task_query": "q"}, {"b": 1, "a": "é"}, 100, {"query": "q", "result": '{"a": "é", "b": 1}', "resultChars": 18}),
    (["not", "a", "task"], None, 100, {"query": None, "result": None, "resultChars": None}),
    (None, "", 100, {"query": None, "result": "", "resultChars": 0}),
])
def test_run_io_says_what_was_asked_and_what_came_back_cut_with_its_full_size(
        task_input: Any, result: Any, limit: int, expected: dict[str, Any]) -> None:
    assert run_io(task_input, result, limit) == expected


class CountingRuns:
    """The ``RunSource`` interface of ``TemporalRuns`` over a fixed list of completed runs, counting calls."""

    def __init__(self, count: int) -> None:
        self.infos = [RunInfo(SID, f"{SID}-{i}", f"r{i:03}", "COMPLETED", T0 + timedelta(minutes=i),
                              T0 + timedelta(minutes=i, seconds=5)) for i in range(count)]
        self.calls = {"list_runs": 0, "run_outcome": 0, "run_input": 0}

    async def list_runs(self, schedule_id: str, status: str | None = None, since: datetime | None = None,
                        until: datetime | None = None, page_size: int = 100, page_token: bytes | None = None
                        ) -> RunPage:
        self.calls["list_runs"] += 1
        return RunPage(tuple(self.infos), None)

    async def run_outcome(self, workflow_id: str, run_id: str) -> RunOutcome | None:
        self.calls["run_outcome"] += 1
        return RunOutcome("COMPLETED", TaskResult("completed", f"answer {run_id}", total_cost_usd=0.01),
                          result=f"answer {run_id}")

    async def run_input(self, workflow_id: str, run_id: str) -> Any:
        self.calls["run_input"] += 1
        return {"task_query": f"question {run_id}"}


def args(**given: str | bool) -> argparse.Namespace:
    defaults: dict[str, Any] = {"status": None, "since": None, "until": None, "page": "1", "page_size": "20",
                                "output": "table", "show_result": False, "result_chars": None}
    return argparse.Namespace(**{**defaults, **given})


async def test_json_reads_the_input_of_the_runs_shown_only() -> None:
    source = CountingRuns(30)
    document = await collect(source, SID, parse_query(args(output="json", page_size="5", page="2"), T0))
    assert [r["query"] for r in document["runs"]] == [f"question r{i:03}" for i in range(24, 19, -1)]
    assert [r["result"] for r in document["runs"]] == [f"answer r{i:03}" for i in range(24, 19, -1)]
    assert source.calls["run_input"] == 5  # one per run shown, not one per run of the selection (30)
    assert document["selection"]["count"] == 30


async def test_the_table_reads_no_input_unless_asked() -> None:
    source = CountingRuns(3)
    document = await collect(source, SID, parse_query(args(), T0))
    assert source.calls["run_input"] == 0 and "query" not in document["runs"][0]
    assert "query:" not in render_table(document)


async def test_show_result_puts_query_and_cut_result_under_each_row() -> None:
    source = CountingRuns(2)
    document = await collect(source, SID, parse_query(args(show_result=True, result_chars="8"), T0))
    lines = render_table(document).splitlines()
    assert lines[1].startswith(f"{SID}-1 ")
    assert lines[2] == "    query:  question r001"
    assert lines[3] == "    result: answer r … (8 of 11 characters shown)"
    assert lines[5] == "    query:  question r000" and len(lines) == 8


def test_result_chars_is_bounded() -> None:
    from sundial.commands.runs import UsageError

    with pytest.raises(UsageError, match=r"--result-chars '0' must be a whole number from 1 to 10000000"):
        parse_query(args(result_chars="0"), T0)
