"""The operator as a child process: the one launcher of ``sundial run`` for ``sundial dev``, e2e and bench.

It runs as in production (its own process, its own kopf), restartable and killable like a
pod, with its liveness and metrics on free loopback ports. ``start`` returns once both
answer. ``extra_args`` and ``env`` take whatever else a caller needs (more ``sundial run``
flags, ``SUNDIAL_*`` settings); ``profile_to`` runs it under cProfile; ``tracemalloc_to`` under
tracemalloc, with ``dump_memory`` writing a snapshot (``sundial.devstack.traced_operator``).
"""

from __future__ import annotations

import os
import signal
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from sundial.devstack.processes import ManagedProcess, StackError, free_port, wait_until
from sundial.devstack.traced_operator import DUMP_ENV, snapshot_path
from sundial.devstack.webhook_certs import webhooks_listening


def operator_env(kubeconfig: Path | None, temporal_address: str, settings: Mapping[str, str] | None = None,
                 base: Mapping[str, str] | None = None) -> dict[str, str]:
    """An operator child's environment: ``base`` (default: this process's), the cluster, Temporal, ``settings``."""
    env = dict(os.environ if base is None else base)
    if kubeconfig is not None:
        env["KUBECONFIG"] = str(kubeconfig)
    env.update({"SUNDIAL_TEMPORAL_ADDRESS": temporal_address, "PYTHONUNBUFFERED": "1", **(settings or {})})
    return env


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text exposition as ``{'name{labels}': value}``."""
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines() if line and not line.startswith("#")}


@dataclass
class OperatorProcess:
    """``sundial run -A`` in its own process; see the module docstring."""

    workdir: Path
    env: dict[str, str]
    extra_args: Sequence[str] = ()
    liveness_port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    profile_to: Path | None = None  # run under cProfile; the stats are written on a clean stop
    tracemalloc_to: Path | None = None  # run under tracemalloc; ``dump_memory`` writes <prefix>.<n>.snapshot
    name: str = "operator"
    proc: ManagedProcess | None = None
    starts: int = 0
    dumps: int = 0
    scope: Sequence[str] = ("-A",)  # or ("-n", "NS", ...): a namespace-scoped operator
    live: ClassVar[list[OperatorProcess]] = []  # the ones running in this process now (a test may want none)

    def argv(self) -> list[str]:
        profiler = ["-m", "cProfile", "-o", str(self.profile_to)] if self.profile_to else []
        entry = "sundial.devstack.traced_operator" if self.tracemalloc_to else "sundial.cli"
        return [sys.executable, *profiler, "-m", entry, "run", *self.scope, "--liveness-port",
                str(self.liveness_port), "--metrics-port", str(self.metrics_port), *self.extra_args]

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}-{self.starts}.log"

    def start(self, timeout: float = 60.0) -> None:
        """Start (again, after a stop or kill) and wait until liveness and metrics answer."""
        self.starts += 1
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {**self.env, DUMP_ENV: str(self.tracemalloc_to)} if self.tracemalloc_to else self.env
        self.proc = ManagedProcess(self.name, self.argv(), self.log_path, env=env)
        self.dumps = 0
        self.proc.start()
        OperatorProcess.live.append(self)
        wait_until("operator liveness, metrics (and webhooks)", self._up, timeout, watch=[self.proc], interval=0.2)

    @property
    def host(self) -> str:
        """Where to reach its endpoints: ``SUNDIAL_BIND_ADDRESS``, or loopback when it listens everywhere."""
        bound = self.env.get("SUNDIAL_BIND_ADDRESS", "").strip("[]")
        if bound in ("", "0.0.0.0", "::"):
            return "127.0.0.1" if bound != "::" else "[::1]"
        return f"[{bound}]" if ":" in bound else bound

    def _up(self) -> bool:
        with urllib.request.urlopen(f"http://{self.host}:{self.liveness_port}/healthz", timeout=1) as resp:
            alive = resp.status == 200
        webhooks = int(self.env.get("SUNDIAL_WEBHOOK_PORT") or 0)  # when it serves the admission webhooks
        return alive and bool(self.metrics_text()) and (not webhooks or webhooks_listening(webhooks, self.host))

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def check_alive(self) -> None:
        if self.proc is not None:
            self.proc.check_alive()

    def metrics_text(self) -> str:
        with urllib.request.urlopen(f"http://{self.host}:{self.metrics_port}/metrics", timeout=5) as resp:
            text: str = resp.read().decode()
            return text

    def metrics(self) -> dict[str, float]:
        return parse_metrics(self.metrics_text())

    def metric(self, sample: str) -> float:
        """One sample, e.g. ``'sundial_sweeps_total{result="ok"}'`` (0 when absent)."""
        return self.metrics().get(sample, 0.0)

    def wait_for_sweeps(self, count: int, sample: str = 'sundial_sweeps_total{result="ok"}',
                        timeout: float = 120.0) -> None:
        """Wait until ``count`` more loops finished (the drift sweeper by default): for "nothing changes"."""
        target = self.metric(sample) + count
        deadline = time.monotonic() + timeout
        while self.metric(sample) < target:
            self.check_alive()
            if time.monotonic() > deadline:
                raise StackError(f"{count} more {sample} not within {timeout:g}s")
            time.sleep(0.1)

    def dump_memory(self, timeout: float = 120.0) -> Path:
        """Ask a ``tracemalloc_to`` operator for a snapshot (SIGUSR1) and wait until it is written."""
        assert self.tracemalloc_to is not None and self.pid is not None, "not started with tracemalloc_to"
        self.dumps += 1
        target = snapshot_path(self.tracemalloc_to, self.dumps)
        os.kill(self.pid, signal.SIGUSR1)
        wait_until(f"tracemalloc snapshot {target}", target.exists, timeout, watch=[self.proc] if self.proc else [])
        return target

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` (a profiled operator writes its stats on the way out)."""
        if self in OperatorProcess.live:
            OperatorProcess.live.remove(self)
        if self.proc is not None:
            self.proc.stop(timeout=timeout)
            self.proc = None

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self in OperatorProcess.live:
            OperatorProcess.live.remove(self)
        if self.proc is not None:
            self.proc.kill()
            self.proc = None

    def log(self) -> str:
        """Every start's log, in order."""
        return "\n".join((self.workdir / f"{self.name}-{n}.log").read_text(errors="replace")
                         for n in range(1, self.starts + 1))
