"""The Helm chart as tests use it: render, install, and run the operator as its Deployment would.

No kubelet runs pods on the test machines, so ``ChartOperator`` reproduces the operator pod
from the rendered Deployment: the container's args and environment (the downward-API pod IP
becomes 127.0.0.1, mounted Secrets become files in a folder) and the ServiceAccount's
identity, as a token from ``kubectl create token`` in a kubeconfig of its own.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sundial.devstack.build import ensure_binaries
from sundial.devstack.controlplane import LocalControlPlane, kubeconfig_text
from sundial.devstack.processes import ManagedProcess, free_port, wait_until

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "sundial"


def helm_binary() -> Path:
    return ensure_binaries(log_to_stderr=False).helm


def run(argv: Sequence[str | Path], stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], input=stdin, capture_output=True, text=True, timeout=timeout)


def values_args(values: dict[str, Any] | None, workdir: Path, tag: str = "values") -> list[str]:
    """``--values FILE`` for a dict (exact types, unlike ``--set``)."""
    if not values:
        return []
    path = workdir / f"{tag}-{abs(hash(json.dumps(values, sort_keys=True)))}.yaml"
    path.write_text(yaml.safe_dump(values))
    return ["--values", str(path)]


def template(values: dict[str, Any] | None, workdir: Path, namespace: str = "sundial-system",
             release: str = "sundial", chart: Path = CHART) -> subprocess.CompletedProcess[str]:
    return run([helm_binary(), "template", release, chart, "--namespace", namespace,
                *values_args(values, workdir)])


def render(values: dict[str, Any] | None, workdir: Path, namespace: str = "sundial-system",
           release: str = "sundial") -> list[dict[str, Any]]:
    """Every object of ``helm template`` (fails the test with helm's message if it does not render)."""
    result = template(values, workdir, namespace, release)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def find(docs: list[dict[str, Any]], kind: str, name_suffix: str = "") -> dict[str, Any]:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"].endswith(name_suffix)]
    assert len(matches) == 1, f"{len(matches)} {kind} named *{name_suffix}"
    return matches[0]


@dataclass
class Cluster:
    """kubectl and helm against the local control plane, as its admin."""

    plane: LocalControlPlane
    workdir: Path

    def kubectl(self, *args: str, stdin: str | None = None, kubeconfig: Path | None = None,
                check: bool = True) -> subprocess.CompletedProcess[str]:
        result = run([self.plane.binaries.kubectl, "--kubeconfig", kubeconfig or self.plane.kubeconfig, *args],
                     stdin=stdin)
        if check:
            assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
        return result

    def helm(self, *args: str, values: dict[str, Any] | None = None,
             check: bool = True) -> subprocess.CompletedProcess[str]:
        result = run([helm_binary(), "--kubeconfig", self.plane.kubeconfig, *args,
                      *values_args(values, self.workdir)], timeout=300)
        if check:
            assert result.returncode == 0, f"helm {' '.join(args)}: {result.stderr}"
        return result

    def service_account_kubeconfig(self, namespace: str, name: str) -> Path:
        """A kubeconfig whose only credential is a bound token of that ServiceAccount."""
        token = self.kubectl("create", "token", name, "-n", namespace, "--duration", "2h").stdout.strip()
        path = self.workdir / f"kubeconfig-{namespace}-{name}"
        path.write_text(kubeconfig_text(self.plane.server, self.plane.cert_dir / "apiserver.crt", token))
        path.chmod(0o600)
        return path

    def can_i_list(self, kubeconfig: Path, namespace: str) -> list[str]:
        """``kubectl auth can-i --list`` as that identity: one 'resource verbs' line per rule, sorted."""
        out = self.kubectl("auth", "can-i", "--list", "-n", namespace, "--no-headers", kubeconfig=kubeconfig).stdout
        lines = []
        for line in out.splitlines():
            parts = line.split()
            if not parts:
                continue
            resource, rest = parts[0], " ".join(parts[1:])
            lines.append(f"{resource} {rest}")
        return sorted(lines)


def container(deployment: dict[str, Any], name: str = "operator") -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == name)
    return found


def pod_environment(deployment: dict[str, Any], secrets: dict[str, dict[str, str]], files: Path,
                    name: str = "operator") -> dict[str, str]:
    """The operator container's environment, its mounted Secrets written under ``files``.

    ``secrets`` maps a Secret name to its (base64) data, as the cluster holds it.
    """
    pod = deployment["spec"]["template"]["spec"]
    mounts = {m["name"]: m["mountPath"] for m in container(deployment, name)["volumeMounts"]}
    remap: dict[str, str] = {}
    for volume in pod["volumes"]:
        secret = volume.get("secret")
        if not secret or volume["name"] not in mounts:
            continue
        target = files / volume["name"]
        target.mkdir(parents=True, exist_ok=True)
        data = secrets[secret["secretName"]]
        keys = [item["key"] for item in secret.get("items", [])] or list(data)
        for key in keys:
            (target / key).write_bytes(base64.b64decode(data[key]))
        remap[mounts[volume["name"]]] = str(target)
    env: dict[str, str] = {}
    for var in container(deployment, name).get("env", []):
        if "valueFrom" in var:
            assert var["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP", var
            env[var["name"]] = "127.0.0.1"
            continue
        value = str(var.get("value", ""))  # the API server leaves an empty value out, as Kubernetes reads it
        for mount, local in remap.items():
            value = value.replace(mount, local)
        env[var["name"]] = value
    return env


def start_worker(deployment: dict[str, Any], workdir: Path) -> ManagedProcess:
    """The reference worker as the chart's worker pod runs it (no Kubernetes credentials at all)."""
    worker = container(deployment, "worker")
    assert worker["command"] == ["sundial"]
    env = pod_environment(deployment, {}, workdir / "mounted", name="worker")
    env.update({"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1", "HOME": str(workdir)})
    proc = ManagedProcess("chart-worker", [sys.executable, "-m", "sundial.cli", *worker["args"]],
                          workdir / "worker.log", env=env)
    proc.start()
    return proc


@dataclass
class ChartOperator:
    """The operator process started like the chart's pod: its args, its env, its ServiceAccount."""

    deployment: dict[str, Any]
    kubeconfig: Path
    workdir: Path
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    liveness_port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    proc: ManagedProcess | None = None
    starts: int = 0

    def argv(self) -> list[str]:
        args = []
        for arg in container(self.deployment)["args"]:
            if arg.startswith("--liveness-port="):
                arg = f"--liveness-port={self.liveness_port}"
            elif arg.startswith("--metrics-port="):
                arg = f"--metrics-port={self.metrics_port}"
            args.append(arg)
        return [sys.executable, "-m", "sundial.cli", *args]

    def environment(self) -> dict[str, str]:
        env = pod_environment(self.deployment, self.secrets, self.workdir / "mounted")
        # The interpreter and the checkout stand in for the image; nothing else of the shell leaks in.
        env.update({"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1",
                    "KUBECONFIG": str(self.kubeconfig), "HOME": str(self.workdir)})
        return env

    def start(self) -> None:
        self.starts += 1
        self.proc = ManagedProcess("chart-operator", self.argv(), self.workdir / f"operator-{self.starts}.log",
                                   env=self.environment())
        self.proc.start()
        wait_until("operator liveness", self._alive, 60, watch=[self.proc], interval=0.2)

    def _alive(self) -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.liveness_port}/healthz", timeout=1) as resp:
            return bool(resp.status == 200)

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()

    def log(self) -> str:
        return "\n".join((self.workdir / f"operator-{n}.log").read_text(errors="replace")
                         for n in range(1, self.starts + 1))


# Every documented option combination (docs/install.md); each must render and pass a server dry-run.
OPTION_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "webhook-self-signed": {"webhook": {"enabled": True}},
    "webhook-cert-manager": {"webhook": {"enabled": True, "certManager": {"enabled": True}}},
    "webhook-cert-manager-issuer": {"webhook": {"enabled": True, "failurePolicy": "Ignore", "certManager": {
        "enabled": True, "issuerRef": {"name": "ca-issuer", "kind": "ClusterIssuer", "group": "cert-manager.io"}}}},
    "watch-namespaces": {"watchNamespaces": ["team-a", "team-b"], "webhook": {"enabled": True}},
    "watch-namespaces-cluster-id": {"watchNamespaces": ["team-a"], "clusterId": "prod-eu-1"},
    "cluster-id": {"clusterId": "prod-eu-1"},
    "ha-peering": {"replicaCount": 2, "peering": {"enabled": True}, "podDisruptionBudget": {"enabled": True}},
    "ha-peering-watch-namespaces": {"replicaCount": 3, "peering": {"enabled": True}, "watchNamespaces": ["team-a"]},
    "temporal-mtls": {"temporal": {"address": "temporal.example:7233", "tls": {
        "existingSecret": "temporal-client", "caKey": "ca.crt"}}},
    "temporal-cloud-api-key": {"temporal": {"address": "prod.a1b2c.tmprl.cloud:7233", "namespace": "prod.a1b2c",
                                            "apiKey": {"existingSecret": "temporal-api-key"}}},
    "worker": {"worker": {"enabled": True, "agent": "mycompany.agents:run", "replicaCount": 2}},
    "service-monitor": {"metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}}}},
    "pod-monitor": {"metrics": {"service": {"enabled": False}, "podMonitor": {"enabled": True}}},
    "alerts-and-dashboard": {"prometheus": {"rules": {"enabled": True, "labels": {"release": "prometheus"}}},
                             "grafana": {"dashboard": {"enabled": True}}},
    "bring-your-own-crd-and-rbac": {"crds": {"enabled": False}, "rbac": {"create": False},
                                    "serviceAccount": {"create": False, "name": "sundial-existing"}},
    "crds-not-kept": {"crds": {"keep": False}},
    "settings-and-extra-env": {"config": {"orphanPolicy": "pause", "minIntervalMinutes": 15},
                               "extraEnv": [{"name": "PYTHONFAULTHANDLER", "value": "1"}],
                               "image": {"repository": "registry.example/sundial", "digest": "sha256:" + "a" * 64}},
}
