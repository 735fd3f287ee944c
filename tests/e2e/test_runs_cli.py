"""``sundial runs`` (and ``kubectl sundial runs``) against the real stack, checked against Temporal itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from temporalio.client import Client, WorkflowExecution
from tests.e2e.helpers import Kube, ready_schedule_id
from tests.e2e.workers import (
    WorkerProcess,
    cli_env,
    executions,
    run_spec,
    set_query,
    sundial,
    trigger_and_wait,
)
from tests.support.scripted_agent import scripted_query

from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.operator_process import OperatorProcess
from sundial.devstack.temporal_dev import TemporalDevServer

RUN_KEYS = {"workflowId", "runId", "status", "scheduledTime", "startedAt", "closedAt", "durationMs", "costUSD",
            "totalTokens", "model", "provider", "error", "query", "result", "resultChars"}
PLAN = [("success", 0.1), ("fail", 0.2), ("success", 0.3), ("success", 0.4)]


def plan_query(outcome: str, cost: float) -> str:
    return scripted_query(outcome=outcome, cost=cost, tokens=10, retryable="false", model="gpt-4o")


class History:
    """One schedule with four closed runs: success $0.10, failure $0.20, success $0.30, success $0.40."""

    def __init__(self, namespace: str, schedule_id: str, truth: list[WorkflowExecution], env: dict[str, str]):
        self.namespace, self.schedule_id, self.truth, self.env = namespace, schedule_id, truth, env

    def runs(self, *args: str) -> subprocess.CompletedProcess[str]:
        return sundial(self.env, "runs", "history", "-n", self.namespace, *args)

    def json(self, *args: str) -> dict[str, Any]:
        done = self.runs("-o", "json", *args)
        assert done.returncode == 0, done.stderr
        document: dict[str, Any] = json.loads(done.stdout)
        return document

    def ids(self, *args: str) -> list[str]:
        return [run["runId"] for run in self.json(*args)["runs"]]


@pytest.fixture(scope="module")
async def history(operator: OperatorProcess, kube: Kube, temporal_client: Client, worker: WorkerProcess,
                  control_plane: LocalControlPlane, temporal_server: TemporalDevServer) -> History:
    ns = kube.new_namespace()
    kube.create(ns, "history", run_spec(scripted_query()))
    sid = ready_schedule_id(kube, ns, "history")
    for outcome, cost in PLAN:
        query = plan_query(outcome, cost)
        await set_query(kube, temporal_client, ns, "history", query)
        await trigger_and_wait(temporal_client, sid)
    return History(ns, sid, await executions(temporal_client, sid), cli_env(control_plane, temporal_server))


def rfc3339(execution: WorkflowExecution) -> str:
    return execution.start_time.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_every_run_is_listed_newest_first_with_its_outcome_and_the_selections_cost(history: History) -> None:
    document = history.json()
    assert [run["runId"] for run in document["runs"]] == [e.run_id for e in history.truth]
    assert [run["status"] for run in document["runs"]] == ["COMPLETED", "COMPLETED", "FAILED", "COMPLETED"]
    assert [run["costUSD"] for run in document["runs"]] == [0.4, 0.3, 0.2, 0.1]
    assert all(set(run) == RUN_KEYS for run in document["runs"])
    failed = document["runs"][2]
    assert "scripted failure" in failed["error"] and failed["model"] == "gpt-4o" and failed["totalTokens"] == 10
    assert document["selection"] == {"count": 4, "costUSD": 1.0, "runsWithoutCost": 0}
    assert document["schedule"] == {"namespace": history.namespace, "name": "history",
                                    "scheduleId": history.schedule_id, "temporalNamespace": "default"}
    assert (document["page"], document["pageSize"], document["pages"]) == (1, 20, 1)


def test_each_run_says_what_it_was_asked_and_what_it_returned(history: History) -> None:
    runs = history.json()["runs"]
    queries = [plan_query(outcome, cost) for outcome, cost in reversed(PLAN)]
    assert [run["query"] for run in runs] == queries
    answers = [None if "outcome=fail" in q else f"scripted answer to: {q}" for q in queries]
    assert [run["result"] for run in runs] == answers
    assert [run["resultChars"] for run in runs] == [None if a is None else len(a) for a in answers]


def test_a_large_result_is_cut_and_says_its_full_size(history: History) -> None:
    newest = history.json("--result-chars", "15", "--page-size", "1")["runs"][0]
    full = f"scripted answer to: {plan_query(*PLAN[-1])}"
    assert (newest["result"], newest["resultChars"]) == (full[:15], len(full))
    table = history.runs("--show-result", "--result-chars", "15", "--page-size", "1").stdout.splitlines()
    assert table[2] == f"    query:  {plan_query(*PLAN[-1])}"
    assert table[3] == f"    result: {full[:15]} … (15 of {len(full)} characters shown)"


def test_status_selects_what_temporal_lists_with_that_status(history: History) -> None:
    assert history.ids("--status", "failed") == [e.run_id for e in history.truth if e.status and
                                                 e.status.name == "FAILED"]
    assert len(history.ids("--status", "completed")) == 3
    assert history.ids("--status", "running") == []
    assert history.json("--status", "failed")["selection"]["costUSD"] == 0.2


def test_since_and_until_select_by_start_time(history: History) -> None:
    oldest_first = list(reversed(history.truth))
    third = rfc3339(oldest_first[2])
    assert history.ids("--since", third) == [e.run_id for e in history.truth[:2]]
    assert history.ids("--until", third) == [e.run_id for e in history.truth[2:]]
    assert history.ids("--since", "1h") == [e.run_id for e in history.truth]
    assert history.json("--until", "1h")["selection"]["count"] == 0


def test_pages_split_the_selection_in_order(history: History) -> None:
    first, second = history.json("--page-size", "3"), history.json("--page-size", "3", "--page", "2")
    assert [r["runId"] for r in first["runs"] + second["runs"]] == [e.run_id for e in history.truth]
    assert (first["pages"], len(second["runs"]), second["selection"]["count"]) == (2, 1, 4)


def test_the_table_ends_with_the_count_and_cost_of_the_selection(history: History) -> None:
    done = history.runs("--page-size", "2", "--page", "2")
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("WORKFLOW ID") and len(lines) == 4
    assert lines[1].startswith(history.truth[2].id) and "FAILED" in lines[1]
    assert lines[-1] == "runs 3-4 of 4 (page 2 of 2); cost of all 4: $1.0000"


def test_kubectl_sundial_runs_is_the_same_command(history: History, control_plane: LocalControlPlane
                                                        ) -> None:
    env = {**history.env, "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([str(control_plane.binaries.kubectl), "sundial", "runs", "history", "-n",
                           history.namespace, "-o", "json"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [run["runId"] for run in json.loads(done.stdout)["runs"]] == [e.run_id for e in history.truth]


@pytest.mark.parametrize(("args", "code", "message"), [
    (("--since", "last tuesday"), 2, "error: --since 'last tuesday' is neither RFC 3339"),
    (("--page-size", "500"), 2, "error: --page-size '500' must be a whole number from 1 to 100"),
    (("--page", "0"), 2, "error: --page '0' must be a whole number at least 1"),
    (("--page", "9"), 2, "error: --page 9 is past the last page (1: 4 runs, 20 per page)"),
    (("--status", "exploded"), 2, "error: --status 'exploded' is not one of"),
])
def test_bad_arguments_fail_with_one_line(history: History, args: tuple[str, ...], code: int,
                                                message: str) -> None:
    done = history.runs(*args)
    assert (done.returncode, done.stdout) == (code, "")
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1


def test_an_unknown_schedule_fails_with_one_line(history: History) -> None:
    done = sundial(history.env, "runs", "no-such-schedule", "-n", history.namespace)
    assert done.returncode == 1
    assert done.stderr == f"error: schedule {history.namespace}/no-such-schedule not found\n"


def test_an_unreachable_temporal_fails_with_one_line(history: History) -> None:
    done = history.runs("--address", "127.0.0.1:1")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("error: Temporal: connect to Temporal at 127.0.0.1:1")
    assert done.stderr.count("\n") == 1
