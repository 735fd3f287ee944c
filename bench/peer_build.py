"""Build and cache the Go peer, bmorton/temporal-operator, for the side-by-side benchmark.

The Go module proxy refuses the peer module itself (its dependencies it serves), so
the source comes from ``SUNDIAL_PEER_SOURCE``: the source tarball or an unpacked folder of
bmorton/temporal-operator v0.11.2 (Apache-2.0). The binary is cached by version next to
the control plane's (written to ``.partial`` then renamed, so an interrupted build never
leaves half a binary); a second run finds it and costs nothing.
"""

from __future__ import annotations

import os
import shutil
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sundial.devstack.build import BuildError, _run_go, cache_root

PEER_MODULE = "github.com/bmorton/temporal-operator"
PEER_VERSION = "v0.11.2"
SOURCE_SETTING = "SUNDIAL_PEER_SOURCE"


def peer_source_root(unpacked: Path) -> Path:
    """The folder holding the peer's go.mod: ``unpacked`` itself or its one sub-folder."""
    if (unpacked / "go.mod").exists():
        return unpacked
    found = sorted(path.parent for path in unpacked.glob("*/go.mod"))
    if len(found) != 1:
        raise BuildError(f"{SOURCE_SETTING}: no single go.mod found under {unpacked} (found {len(found)})")
    return found[0]


def _check_module(root: Path) -> None:
    first = (root / "go.mod").read_text().splitlines()[0].split()
    if first[:2] != ["module", PEER_MODULE]:
        raise BuildError(f"{SOURCE_SETTING}: {root}/go.mod declares {' '.join(first)!r}, expected {PEER_MODULE}")


# The CRDs the peer needs installed: its own, and cert-manager's (it watches Certificates).
CRD_SOURCES = ("config/crd/bases", "hack/crd/cert-manager.yaml")


@dataclass(frozen=True)
class PeerBuild:
    """The peer's manager binary and the CRD files it needs, both cached."""

    binary: Path
    crds: list[Path]


def _copy_crds(root: Path, crd_dir: Path) -> None:
    partial = crd_dir.parent / f"{crd_dir.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for source in CRD_SOURCES:
        path = root / source
        for crd in sorted(path.glob("*.yaml")) if path.is_dir() else [path]:
            shutil.copy(crd, partial / crd.name)
    shutil.rmtree(crd_dir, ignore_errors=True)
    partial.replace(crd_dir)


def _build_from(source: Path, target: Path, crd_dir: Path, log: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="sundial-peer-") as tmp:
        if source.is_dir():
            root = peer_source_root(source)
        else:
            with tarfile.open(source) as archive:
                archive.extractall(tmp, filter="data")
            root = peer_source_root(Path(tmp))
        _check_module(root)
        _copy_crds(root, crd_dir)
        if not target.exists():
            partial = target.parent / f"{target.name}.partial"
            _run_go(["build", "-trimpath", "-ldflags", "-s -w", "-o", str(partial), "./cmd"], root, log)
            partial.replace(target)


def ensure_peer(source: str | None = None) -> PeerBuild:
    """The peer's binary and CRDs, built once from ``SUNDIAL_PEER_SOURCE`` and cached by version."""
    cache = cache_root() / "bin"
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / f"temporal-operator-{PEER_VERSION}"
    crd_dir = cache / f"temporal-operator-{PEER_VERSION}-crds"
    if target.exists() and crd_dir.is_dir():
        return PeerBuild(target, sorted(crd_dir.glob("*.yaml")))
    configured = source or os.environ.get(SOURCE_SETTING)
    if not configured:
        raise BuildError(
            f"{SOURCE_SETTING} is not set: set it to the source tarball (or folder) of "
            f"{PEER_MODULE} {PEER_VERSION}; the Go module proxy refuses that module")
    path = Path(configured).expanduser()
    if not path.exists():
        raise BuildError(f"{SOURCE_SETTING}={configured}: no such file or folder")
    if shutil.which("go") is None:
        raise BuildError("the Go toolchain is needed to build the peer: `go` is not on PATH")
    started = time.monotonic()
    _build_from(path, target, crd_dir, cache_root() / "build-peer.log")
    print(f"built the peer {PEER_MODULE} {PEER_VERSION} in {time.monotonic() - started:.0f}s", file=sys.stderr)
    return PeerBuild(target, sorted(crd_dir.glob("*.yaml")))
