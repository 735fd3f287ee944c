"""A Temporal dev server on free loopback ports, with its own sqlite file.

Tests of outages stop it and start it again on the same file and ports: schedules
and workflow histories survive, as they do on a real cluster.
"""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from sundial.devstack.processes import ManagedProcess, free_port, wait_until


@dataclass
class TemporalDevServer:
    """``temporal server start-dev`` with a known address, UI and database file."""

    temporal_bin: Path
    workdir: Path
    ui: bool = False
    namespace: str = "default"
    port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    ui_port: int = field(default_factory=free_port)
    _proc: ManagedProcess | None = None
    start_seconds: float = 0.0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def ui_url(self) -> str | None:
        return f"http://127.0.0.1:{self.ui_port}" if self.ui else None

    @property
    def db_file(self) -> Path:
        return self.workdir / "temporal.sqlite"

    def argv(self) -> list[str]:
        args = [
            str(self.temporal_bin), "server", "start-dev",
            "--ip", "127.0.0.1",
            "--port", str(self.port),
            "--http-port", str(self.http_port),
            "--metrics-port", str(self.metrics_port),
            "--db-filename", str(self.db_file),
            "--log-level", "warn",
        ]
        if self.namespace != "default":
            args += ["--namespace", self.namespace]
        if self.ui:
            args += ["--ui-port", str(self.ui_port), "--ui-disable-news-fetch"]
        else:
            args.append("--headless")
        return args

    def start(self, timeout: float = 60.0) -> None:
        """Start (or restart on the same file and ports) and wait until it answers."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        proc = ManagedProcess("temporal", self.argv(), self.workdir / "temporal.log")
        self._proc = proc
        started = time.monotonic()
        proc.start()
        wait_until(f"Temporal dev server at {self.address}", self._port_open, timeout, watch=[proc])
        wait_until(f"Temporal namespace {self.namespace}", self._namespace_ready, timeout, watch=[proc],
                   interval=0.3)
        self.start_seconds = time.monotonic() - started

    def _port_open(self) -> bool:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def _namespace_ready(self) -> bool:
        result = subprocess.run(
            [str(self.temporal_bin), "operator", "namespace", "describe", "--namespace", self.namespace,
             "--address", self.address],
            capture_output=True, timeout=10,
        )
        return result.returncode == 0

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.stop()
            self._proc = None

    def kill(self) -> None:
        """Stop it as a crash would (SIGKILL)."""
        if self._proc is not None:
            self._proc.kill()
            self._proc = None

    def running(self) -> bool:
        return self._proc is not None and self._proc.running()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None
