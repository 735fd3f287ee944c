"""A local Kubernetes control plane: etcd and kube-apiserver, like controller-runtime's envtest.

Everything lives in one temporary directory: etcd's data, the apiserver's serving
certificate, a service-account signing key (so ``kubectl create token`` works), a
static admin token with ``system:masters`` and the kubeconfig for it. Authorization
is RBAC, as on a real cluster, so RBAC mistakes in our manifests show up in tests.
There is no controller-manager and no scheduler: no pods run, and a deleted
namespace stays ``Terminating``.
"""

from __future__ import annotations

import secrets
import shutil
import ssl
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from sundial.devstack.build import Binaries
from sundial.devstack.processes import ManagedProcess, free_port, wait_until

ADMIN_USER = "sundial-admin"


def _write_service_account_key(path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def kubeconfig_text(server: str, ca_file: Path, token: str, context: str = "sundial-local") -> str:
    """A kubeconfig with one cluster, one admin user and one context."""
    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: {context}\n  cluster:\n    server: {server}\n"
        f"    certificate-authority: {ca_file}\n"
        f"users:\n- name: {ADMIN_USER}\n  user:\n    token: {token}\n"
        f"contexts:\n- name: {context}\n  context:\n    cluster: {context}\n    user: {ADMIN_USER}\n"
        f"    namespace: default\ncurrent-context: {context}\n"
    )


@dataclass
class LocalControlPlane:
    """etcd + kube-apiserver on free loopback ports; ``stop()`` removes every trace."""

    binaries: Binaries
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="sundial-kube-")))
    etcd_port: int = field(default_factory=free_port)
    etcd_peer_port: int = field(default_factory=free_port)
    apiserver_port: int = field(default_factory=free_port)
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    start_seconds: float = 0.0
    _procs: list[ManagedProcess] = field(default_factory=list)

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.apiserver_port}"

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "kubeconfig"

    @property
    def cert_dir(self) -> Path:
        return self.workdir / "certs"

    def _etcd(self) -> ManagedProcess:
        client = f"http://127.0.0.1:{self.etcd_port}"
        peer = f"http://127.0.0.1:{self.etcd_peer_port}"
        argv = [
            str(self.binaries.etcd),
            "--name", "sundial",
            "--data-dir", str(self.workdir / "etcd"),
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", f"sundial={peer}",
            "--unsafe-no-fsync",
            "--log-level", "warn",
        ]
        return ManagedProcess("etcd", argv, self.workdir / "etcd.log")

    def _apiserver(self) -> ManagedProcess:
        sa_key = self.workdir / "sa.key"
        _write_service_account_key(sa_key)
        tokens = self.workdir / "tokens.csv"
        tokens.write_text(f'{self.token},{ADMIN_USER},{ADMIN_USER},"system:masters"\n')
        tokens.chmod(0o600)
        argv = [
            str(self.binaries.kube_apiserver),
            "--etcd-servers", f"http://127.0.0.1:{self.etcd_port}",
            "--bind-address", "127.0.0.1",
            "--advertise-address", "127.0.0.1",
            "--secure-port", str(self.apiserver_port),
            "--cert-dir", str(self.cert_dir),
            "--authorization-mode", "RBAC",
            "--token-auth-file", str(tokens),
            "--service-account-key-file", str(sa_key),
            "--service-account-signing-key-file", str(sa_key),
            "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
            "--api-audiences", "https://kubernetes.default.svc.cluster.local",
            "--service-cluster-ip-range", "10.0.0.0/24",
            "--allow-privileged=true",
            "--disable-admission-plugins", "ServiceAccount",
            "--enable-priority-and-fairness=false",
            "--profiling=false",
            "--v", "0",
        ]
        return ManagedProcess("kube-apiserver", argv, self.workdir / "kube-apiserver.log")

    def start(self, timeout: float = 90.0) -> None:
        """Start etcd, then kube-apiserver; wait for ``/readyz`` and write the kubeconfig."""
        started = time.monotonic()
        try:
            etcd = self._etcd()
            self._procs.append(etcd)
            etcd.start()
            wait_until("etcd", self._etcd_healthy, timeout, watch=[etcd])
            apiserver = self._apiserver()
            self._procs.append(apiserver)
            apiserver.start()
            wait_until("kube-apiserver /readyz", self._apiserver_ready, timeout, watch=[etcd, apiserver],
                       interval=0.2)
            self.kubeconfig.write_text(
                kubeconfig_text(self.server, self.cert_dir / "apiserver.crt", self.token)
            )
            self.kubeconfig.chmod(0o600)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - started

    def _etcd_healthy(self) -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.etcd_port}/health", timeout=1) as resp:
            return b'"health":"true"' in resp.read()

    def _apiserver_ready(self) -> bool:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        request = urllib.request.Request(
            f"{self.server}/readyz", headers={"Authorization": f"Bearer {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=2, context=context) as resp:
            return bool(resp.status == 200)

    def stop(self) -> None:
        """Stop both servers (apiserver first) and delete the working directory."""
        for proc in reversed(self._procs):
            proc.stop()
        self._procs.clear()
        shutil.rmtree(self.workdir, ignore_errors=True)
