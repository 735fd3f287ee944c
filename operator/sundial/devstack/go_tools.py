"""Go-built tools the tests use beside the control plane: promtool and a kstatus CLI.

Built like the control plane (``build.py``): from their Go modules through the module proxy,
on first use, cached by version under the same folder, written to a ``.partial`` file and
renamed. promtool checks and unit-tests the shipped alert rules; the kstatus CLI asks
kstatus's own ``status.Compute`` (what Flux's health checks use) about a Schedule.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from sundial.devstack.build import _build_in_wrapper, _run_go, bin_cache, cache_root

CLI_UTILS_VERSION = "v0.37.2"  # sigs.k8s.io/cli-utils: kstatus, the status library Flux uses
PROMETHEUS_VERSION = "v0.316.0"  # the Go module of Prometheus 3.x


def build_promtool(cache: Path, log: Path) -> Path:
    """promtool, compiled from github.com/prometheus/prometheus (a few minutes once)."""
    target = cache / f"promtool-{PROMETHEUS_VERSION}"
    if target.exists():
        return target
    gomod = "module sundial.dev/promtool\n\ngo 1.25.0\n"
    _build_in_wrapper(target, gomod, "github.com/prometheus/prometheus/cmd/promtool", PROMETHEUS_VERSION,
                      "-s -w", log)
    return target


def ensure_promtool() -> Path:
    """promtool, built on first use and cached by version."""
    return build_promtool(bin_cache(), cache_root() / "build.log")


KSTATUS_MAIN = """\
// kstatus reads one Kubernetes object (YAML or JSON) on stdin and prints kstatus's verdict as JSON.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"
)

func main() {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	asJSON, err := yaml.YAMLToJSON(data)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(asJSON); err != nil { // keeps integers as int64, as kstatus expects
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	res, err := status.Compute(obj)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, _ := json.Marshal(map[string]string{"status": string(res.Status), "message": res.Message})
	fmt.Println(string(out))
}
"""


def build_kstatus(cache: Path, log: Path) -> Path:
    """A tiny CLI over kstatus's own ``status.Compute`` (stdin: one object; stdout: JSON verdict).

    Flux's health checks are kstatus; a test that asks this binary asks the real library.
    """
    target = cache / f"kstatus-{CLI_UTILS_VERSION}"
    if target.exists():
        return target
    with tempfile.TemporaryDirectory(prefix="sundial-build-") as tmp:
        work = Path(tmp)
        (work / "go.mod").write_text("module sundial.dev/kstatus\n\ngo 1.25.0\n")
        (work / "main.go").write_text(KSTATUS_MAIN)
        _run_go(["get", f"sigs.k8s.io/cli-utils@{CLI_UTILS_VERSION}", "sigs.k8s.io/yaml"], work, log)
        partial = target.parent / f"{target.name}.partial"
        _run_go(["build", "-trimpath", "-ldflags", "-s -w", "-o", str(partial), "."], work, log)
        partial.replace(target)
    return target


def ensure_kstatus() -> Path:
    """The kstatus CLI, built on first use and cached by cli-utils version (~40 s once)."""
    return build_kstatus(bin_cache(), cache_root() / "build.log")
