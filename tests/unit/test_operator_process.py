"""The one operator launcher (``sundial.devstack.operator_process``): its command line, environment
and metrics parsing. Starting it for real is what every e2e test does."""

from __future__ import annotations

import sys
from pathlib import Path

from sundial.devstack.operator_process import OperatorProcess, operator_env, parse_metrics


def test_the_command_line_carries_the_ports_and_any_extra_flags(tmp_path: Path) -> None:
    process = OperatorProcess(tmp_path, {}, extra_args=("--verbose", "--webhook-port", "9443"),
                              liveness_port=1001, metrics_port=1002)
    assert process.argv() == [sys.executable, "-m", "sundial.cli", "run", "-A", "--liveness-port", "1001",
                              "--metrics-port", "1002", "--verbose", "--webhook-port", "9443"]
    profiled = OperatorProcess(tmp_path, {}, profile_to=tmp_path / "op.prof", liveness_port=1, metrics_port=2)
    assert profiled.argv()[1:4] == ["-m", "cProfile", "-o"]


def test_the_environment_names_the_cluster_and_temporal_and_takes_settings() -> None:
    env = operator_env(Path("/k/config"), "127.0.0.1:7233", {"SUNDIAL_RESYNC_SECONDS": "5"}, base={"HOME": "/h"})
    assert env == {"HOME": "/h", "KUBECONFIG": "/k/config", "SUNDIAL_TEMPORAL_ADDRESS": "127.0.0.1:7233",
                   "PYTHONUNBUFFERED": "1", "SUNDIAL_RESYNC_SECONDS": "5"}
    assert "KUBECONFIG" not in operator_env(None, "t:1", base={})


def test_metrics_text_is_parsed_into_samples() -> None:
    text = '# HELP x_total help\n# TYPE x_total counter\nx_total{kind="a"} 3.0\nup 1\n'
    assert parse_metrics(text) == {'x_total{kind="a"}': 3.0, "up": 1.0}
