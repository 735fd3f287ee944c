"""Child processes that never outlive the stack that started them.

The local stack runs etcd, kube-apiserver, the Temporal dev server and, in e2e tests,
the operator and worker. Each child gets its own process group (so a stop reaches its
children too) and, on Linux, a parent-death signal, so even a ``kill -9`` of the test
run does not leave servers behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1


class StackError(RuntimeError):
    """A server of the local stack did not start, or died."""


def free_port() -> int:
    """A TCP port on loopback that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:
    """Runs in the child before exec: ask the kernel for SIGTERM when the parent dies."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ManagedProcess:
    """A server child process with its output in a log file."""

    def __init__(self, name: str, argv: Sequence[str], log_path: Path, env: dict[str, str] | None = None):
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = env
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        log = self.log_path.open("ab")
        try:
            self._proc = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        finally:
            log.close()

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def check_alive(self) -> None:
        """Raise with the log's tail when the process has exited."""
        if self._proc is not None and self._proc.poll() is not None:
            raise StackError(f"{self.name} exited with code {self._proc.returncode}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def stop(self, timeout: float = 10.0, sig: int = signal.SIGTERM) -> None:
        """Signal the whole process group, then SIGKILL it if it lingers."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            _signal_group(proc.pid, sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait()
        _signal_group(proc.pid, signal.SIGKILL)  # stragglers the leader left in its group
        self._proc = None

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        self.stop(timeout=5, sig=signal.SIGKILL)


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def wait_until(
    what: str, probe: Callable[[], bool], timeout: float, watch: Sequence[ManagedProcess] = (),
    interval: float = 0.1,
) -> float:
    """Poll ``probe`` until it is true; fail loudly on timeout or when a watched process dies.

    Returns the seconds it took.
    """
    started = time.monotonic()
    deadline = started + timeout
    while True:
        for proc in watch:
            proc.check_alive()
        try:
            if probe():
                return time.monotonic() - started
        except Exception:
            pass
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {p.name} log:\n{p.log_tail()}" for p in watch)
            raise StackError(f"{what} not ready after {timeout:.0f}s\n{tails}")
        time.sleep(interval)
