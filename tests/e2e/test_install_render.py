"""Every documented render is accepted by the real apiserver, and the pods pass Pod Security `restricted`.

`kubectl apply --dry-run=server` runs the apiserver's whole admission chain (schema, CEL, RBAC
escalation checks, Pod Security) without persisting. Kinds from other projects (cert-manager's
Certificate and Issuer, prometheus-operator's ServiceMonitor and PodMonitor) get stand-in CRDs
that accept any spec: their own schemas are not checked here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.support.chart import CHART, OPTION_SETS, Cluster, find, render, template

from sundial.devstack.controlplane import LocalControlPlane

DRY_NS = "sundial-dry"
STAND_INS = [("cert-manager.io", "v1", "Certificate", "certificates"), ("cert-manager.io", "v1", "Issuer", "issuers"),
             ("monitoring.coreos.com", "v1", "ServiceMonitor", "servicemonitors"),
             ("monitoring.coreos.com", "v1", "PodMonitor", "podmonitors"),
             ("monitoring.coreos.com", "v1", "PrometheusRule", "prometheusrules")]


def stand_in_crd(group: str, version: str, kind: str, plural: str) -> dict[str, Any]:
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}"},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
                     "versions": [{"name": version, "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                         "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}


@pytest.fixture(scope="module")
def cluster(control_plane: LocalControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    the_cluster = Cluster(control_plane, tmp_path_factory.mktemp("render"))
    for ns in (DRY_NS, "team-a", "team-b"):
        the_cluster.kubectl("create", "namespace", ns, check=False)
    crds = [stand_in_crd(*args) for args in STAND_INS]
    crds += [d for d in yaml.safe_load_all((CHART / "crds" / "kopf-peering.yaml").read_text()) if d]  # helm's crds/
    the_cluster.kubectl("apply", "--server-side", "-f", "-",
                        stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": crds}))
    for crd in crds:
        the_cluster.kubectl("wait", "--for=condition=Established", f"crd/{crd['metadata']['name']}", "--timeout=30s")
    yield the_cluster


@pytest.mark.parametrize("name", OPTION_SETS)
def test_every_documented_render_passes_a_server_dry_run(name: str, cluster: Cluster) -> None:
    rendered = template(OPTION_SETS[name], cluster.workdir, namespace=DRY_NS, release="dry")
    assert rendered.returncode == 0, rendered.stderr
    # Server-side apply: no client-side last-applied bookkeeping (and its warning) on the existing CRD.
    applied = cluster.kubectl("apply", "--server-side", "--force-conflicts", "--dry-run=server", "-f", "-",
                              stdin=rendered.stdout, check=False)
    assert applied.returncode == 0, applied.stderr
    assert "Warning" not in applied.stderr, applied.stderr
    count = sum(1 for doc in yaml.safe_load_all(rendered.stdout) if doc)
    assert applied.stdout.count("(server dry run)") == count, applied.stdout


def restricted_namespace(cluster: Cluster, name: str) -> None:
    cluster.kubectl("create", "namespace", name)
    cluster.kubectl("label", "namespace", name, "pod-security.kubernetes.io/enforce=restricted",
                    "pod-security.kubernetes.io/enforce-version=latest")


def test_the_render_applied_in_a_restricted_namespace_gets_no_pod_security_warning(cluster: Cluster) -> None:
    restricted_namespace(cluster, "psa-restricted")
    values = {"crds": {"enabled": False}, "worker": {"enabled": True}}
    rendered = template(values, cluster.workdir, namespace="psa-restricted", release="psa")
    assert rendered.returncode == 0, rendered.stderr
    applied = cluster.kubectl("apply", "-f", "-", stdin=rendered.stdout, check=False)  # for real
    try:
        assert applied.returncode == 0, applied.stderr
        assert "PodSecurity" not in applied.stderr and "Warning" not in applied.stderr, applied.stderr
        assert "deployment.apps/psa-sundial created" in applied.stdout
        assert "deployment.apps/psa-sundial-worker created" in applied.stdout
    finally:
        cluster.kubectl("delete", "-f", "-", "--wait=false", stdin=rendered.stdout, check=False)
    # The webhook variant (its Secret and volume) cannot be applied for real here: the registration
    # would send every Schedule write to a Service without pods. A server dry-run runs the same admission.
    hooked = template({"crds": {"enabled": False}, "webhook": {"enabled": True}}, cluster.workdir,
                      namespace="psa-restricted", release="psa")
    dry = cluster.kubectl("apply", "--dry-run=server", "-f", "-", stdin=hooked.stdout, check=False)
    assert dry.returncode == 0 and "PodSecurity" not in dry.stderr, dry.stderr


def test_pod_security_does_warn_about_a_pod_that_breaks_restricted(cluster: Cluster, tmp_path: Path) -> None:
    """The check above can fail: the same Deployment without its securityContext is warned about."""
    restricted_namespace(cluster, "psa-control")
    deployment = find(render({}, tmp_path, namespace="psa-control", release="ctl"), "Deployment", "sundial")
    for c in deployment["spec"]["template"]["spec"]["containers"]:
        del c["securityContext"]
    applied = cluster.kubectl("apply", "--dry-run=server", "-f", "-", stdin=json.dumps(deployment), check=False)
    assert 'would violate PodSecurity "restricted:latest"' in applied.stderr, applied.stderr
