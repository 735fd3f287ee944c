"""helm/sundial renders, refuses what it must, and keeps step with the operator's settings and CRD.

These run the real helm binary (built from Go modules and cached, like the control plane); no
server is involved. The server side (dry-run, Pod Security, install) is tests/e2e/test_install*.py.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.support.chart import CHART, OPTION_SETS, REPO, container, find, helm_binary, render, run, template

from sundial.settings import SETTINGS, Settings

VALUES = yaml.safe_load((CHART / "values.yaml").read_text())
# Settings the chart sets from other values than `config` (or on purpose never as plain env).
CHART_MANAGED = {
    "SUNDIAL_TEMPORAL_ADDRESS": "temporal.address",
    "SUNDIAL_TEMPORAL_NAMESPACE": "temporal.namespace",
    "SUNDIAL_TEMPORAL_TLS_CERT": "temporal.tls.existingSecret (a mounted file)",
    "SUNDIAL_TEMPORAL_TLS_KEY": "temporal.tls.existingSecret (a mounted file)",
    "SUNDIAL_TEMPORAL_TLS_CA": "temporal.tls.caKey (a mounted file)",
    "SUNDIAL_TEMPORAL_API_KEY_FILE": "temporal.apiKey.existingSecret (a mounted file)",
    "SUNDIAL_TEMPORAL_API_KEY": "never: a secret does not go in the environment; see the _FILE variant",
    "SUNDIAL_CLUSTER_ID": "clusterId",
    "SUNDIAL_PEERING_NAME": "peering.enabled / peering.name",
    "SUNDIAL_OPERATOR_NAMESPACE": "the release namespace (where the install-id ConfigMap lives)",
    "SUNDIAL_WORKER_ALLOWED_OPERATIONS": "worker.allowedOperations (the worker's setting, not the operator's)",
    # The admission webhook's contract (its settings land with the webhook server):
    "SUNDIAL_BIND_ADDRESS": "the pod IP, from the downward API",
    "SUNDIAL_WEBHOOK_CERT_FILE": "webhook.enabled (the webhook certificate Secret, mounted)",
    "SUNDIAL_WEBHOOK_KEY_FILE": "webhook.enabled (the webhook certificate Secret, mounted)",
    "SUNDIAL_WEBHOOK_PORT": "webhook.port (as the --webhook-port flag, which wins over the variable)",
}


def operator_env(docs: list[dict[str, Any]]) -> dict[str, Any]:
    deployment = find(docs, "Deployment", "sundial")
    return {var["name"]: var.get("value", var.get("valueFrom")) for var in container(deployment)["env"]}


def test_helm_lint_strict_passes() -> None:
    result = run([helm_binary(), "lint", "--strict", CHART])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("name", OPTION_SETS)
def test_each_documented_option_set_renders(name: str, tmp_path: Path) -> None:
    kinds = {doc["kind"] for doc in render(OPTION_SETS[name], tmp_path)}
    assert "Deployment" in kinds


@pytest.mark.parametrize(("values", "reason"), [
    ({"replicaCount": 2}, "replicaCount: 2 needs peering.enabled=true"),
    ({"replicaCont": 2}, "additional properties 'replicaCont' not allowed"),
    ({"webhook": {"enabeld": True}}, "additional properties 'enabeld' not allowed"),
    ({"config": {"orphanPolicy": "nuke"}}, "/config/orphanPolicy': value must be one of 'delete', 'pause', 'report'"),
    ({"config": {"resyncSeconds": "often"}}, "/config/resyncSeconds': got string, want number"),
    ({"webhook": {"certManager": {"enabled": True}}}, "webhook.certManager.enabled=true needs webhook.enabled=true"),
    ({"podDisruptionBudget": {"enabled": True}}, "podDisruptionBudget.minAvailable: 1 with replicaCount: 1"),
    ({"metrics": {"serviceMonitor": {"enabled": True}, "podMonitor": {"enabled": True}}}, "pick one"),
    ({"temporal": {"address": "temporal"}}, "/temporal/address'"),
    ({"watchNamespaces": ["sundial-system"], "webhook": {"enabled": True}}, "install the chart in its own namespace"),
])
def test_impossible_values_fail_with_a_one_line_reason(values: dict[str, Any], reason: str, tmp_path: Path) -> None:
    result = template(values, tmp_path)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if reason in line]
    assert len(lines) == 1, result.stderr


def test_every_operator_setting_is_a_chart_value() -> None:
    """A new row in SETTINGS fails here until the chart maps it (config + _helpers.tpl) or says why not."""
    mapped = set(operator_env(render({}, Path("/tmp"))))
    for setting in SETTINGS:
        assert setting.env in mapped or setting.env in CHART_MANAGED, (
            f"{setting.env} ({setting.help}) is not a chart value: add it under `config` in values.yaml, "
            "values.schema.json and sundial.configEnv in templates/_helpers.tpl")
    config_envs = set(operator_env(render({}, Path("/tmp")))) - set(CHART_MANAGED)
    config_envs -= {"PYTHONDONTWRITEBYTECODE", "HOME"}
    unknown = config_envs - {s.env for s in SETTINGS}
    assert not unknown, f"the chart sets variables the operator does not read: {unknown}"


def test_config_defaults_are_the_operator_defaults() -> None:
    env = operator_env(render({}, Path("/tmp")))
    by_env = {s.env: s for s in SETTINGS}
    defaults = Settings()
    for name, value in env.items():
        if name in by_env and name not in CHART_MANAGED:
            setting = by_env[name]
            assert setting.read(name, value) == getattr(defaults, setting.field), name


def test_secret_backed_settings_are_files_never_env_values(tmp_path: Path) -> None:
    docs = render({"temporal": {"tls": {"existingSecret": "client", "caKey": "ca.crt"},
                                "apiKey": {"existingSecret": "api-key"}}}, tmp_path)
    env = operator_env(docs)
    assert env["SUNDIAL_TEMPORAL_TLS_CERT"] == "/etc/sundial/temporal-tls/tls.crt"
    assert env["SUNDIAL_TEMPORAL_API_KEY_FILE"] == "/etc/sundial/temporal-api-key/api-key"
    assert "SUNDIAL_TEMPORAL_API_KEY" not in env
    assert not any("secretKeyRef" in json.dumps(v) for v in env.values())


def test_the_chart_crd_is_the_generated_crd() -> None:
    generated = yaml.safe_load((REPO / "crds" / "sundial.dev_schedules.yaml").read_text())
    rendered = find(render({}, Path("/tmp")), "CustomResourceDefinition", "schedules.sundial.dev")
    assert rendered["spec"] == generated["spec"]
    assert rendered["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}
    unkept = find(render(OPTION_SETS["crds-not-kept"], Path("/tmp")), "CustomResourceDefinition",
                  "schedules.sundial.dev")
    assert "annotations" not in unkept["metadata"]


def test_the_chart_ships_the_generated_schedulepolicy_crd() -> None:
    generated = yaml.safe_load((REPO / "crds" / "sundial.dev_schedulepolicies.yaml").read_text())
    rendered = find(render({}, Path("/tmp")), "CustomResourceDefinition", "schedulepolicies.sundial.dev")
    assert rendered["spec"] == generated["spec"] and rendered["spec"]["scope"] == "Cluster"
    assert rendered["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}


def test_app_version_is_the_package_version() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    package = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert chart["appVersion"] == package


def _leaf_paths(schema: dict[str, Any], values: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for key, sub in schema.get("properties", {}).items():
        if isinstance(values, dict) and key in values:
            paths.append((*prefix, key))
            if sub.get("additionalProperties") is False and key != "resources":  # resources: Kubernetes' own
                paths.extend(_leaf_paths(sub, values[key], (*prefix, key)))
    return paths


def test_every_values_key_has_a_comment_and_a_schema() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    lines = (CHART / "values.yaml").read_text().splitlines()
    documented = _leaf_paths(schema, VALUES)
    assert {p[0] for p in documented} == set(VALUES), "a top-level value has no schema"
    for path in documented:
        index = -1
        for depth, key in enumerate(path):  # each key is looked for below its parent's line
            index = next(i for i, line in enumerate(lines) if i > index and line.startswith(f"{'  ' * depth}{key}:"))
        assert lines[index - 1].lstrip().startswith("#"), f"{'.'.join(path)} has no comment in values.yaml"


def test_one_replica_is_recreated_and_the_pod_is_restricted() -> None:
    deployment = find(render({}, Path("/tmp")), "Deployment", "sundial")
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    pod = deployment["spec"]["template"]["spec"]
    ctx = container(deployment)["securityContext"]
    assert pod["securityContext"]["runAsUser"] == 65532 and pod["securityContext"]["runAsNonRoot"]
    assert ctx["readOnlyRootFilesystem"] and not ctx["allowPrivilegeEscalation"]
    assert ctx["capabilities"] == {"drop": ["ALL"]} and ctx["seccompProfile"] == {"type": "RuntimeDefault"}
    assert {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}} in pod["volumes"]


def test_webhook_excludes_the_release_namespace_and_uses_one_ca(tmp_path: Path) -> None:
    docs = render(OPTION_SETS["webhook-self-signed"], tmp_path)
    secret = find(docs, "Secret", "webhook-tls")
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        hook = find(docs, kind, "webhook")["webhooks"][0]
        assert hook["clientConfig"]["caBundle"] == secret["data"]["ca.crt"]
        assert hook["sideEffects"] == "None" and hook["timeoutSeconds"] == 5
        assert hook["namespaceSelector"]["matchExpressions"][0] == {
            "key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["sundial-system"]}
    ops = {find(docs, k, "webhook")["webhooks"][0]["clientConfig"]["service"]["path"]:
           find(docs, k, "webhook")["webhooks"][0]["rules"][0]["operations"]
           for k in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")}
    assert ops == {"/validate": ["CREATE", "UPDATE"], "/mutate": ["CREATE", "UPDATE"]}


def _essentials(hook: dict[str, Any]) -> tuple[Any, ...]:
    client_config = hook["clientConfig"]
    path = client_config["service"]["path"] if "service" in client_config else client_config["url"].split("/", 3)[3]
    return (hook["name"], path.lstrip("/"), hook["rules"][0]["operations"], hook["failurePolicy"],
            hook["timeoutSeconds"], hook["sideEffects"], hook.get("reinvocationPolicy", "Never"))


def test_the_finalizer_webhook_is_create_only_and_ignored_when_down_in_the_chart_and_the_dev_stack(
        tmp_path: Path) -> None:
    """Registered the same way by the chart and by ``sundial dev`` / the e2e stack."""
    from sundial.devstack.webhook_certs import generate_certs, webhook_configurations

    docs = render(OPTION_SETS["webhook-self-signed"], tmp_path)
    chart = [_essentials(hook) for hook in find(docs, "MutatingWebhookConfiguration", "webhook")["webhooks"]]
    assert chart[1] == ("finalizer.schedules.sundial.dev", "finalizer", ["CREATE"], "Ignore", 5, "None", "Never")
    local = webhook_configurations(9443, generate_certs(tmp_path / "certs"))
    assert [_essentials(hook) for hook in local[0]["webhooks"]] == chart
    assert [_essentials(hook) for hook in webhook_configurations(9443, generate_certs(tmp_path / "c2"),
                                                                 finalizer=False)[0]["webhooks"]] == chart[:1]


def test_rbac_has_no_wildcards_and_no_secrets() -> None:
    for name in OPTION_SETS:
        for doc in render(OPTION_SETS[name], Path("/tmp")):
            if doc["kind"] in ("ClusterRole", "Role"):
                for rule in doc["rules"]:
                    assert "*" not in json.dumps(rule), (name, doc["metadata"]["name"], rule)
                    assert "secrets" not in rule.get("resources", []), (name, rule)


def test_watch_namespaces_grants_roles_only() -> None:
    docs = render(OPTION_SETS["watch-namespaces"], Path("/tmp"))
    kinds = {(d["kind"], d["metadata"].get("namespace")) for d in docs if "Role" in d["kind"]}
    operator_kinds = {k for k in kinds if k[0] in ("ClusterRoleBinding",)}
    assert operator_kinds == set()
    assert ("Role", "team-a") in kinds and ("Role", "team-b") in kinds and ("Role", "kube-system") in kinds
    with_id = render(OPTION_SETS["watch-namespaces-cluster-id"], Path("/tmp"))
    assert not [d for d in with_id if d["metadata"].get("namespace") == "kube-system"]


def _key_sets(schema: dict[str, Any], values: Any, path: str = "") -> list[tuple[str, set[str], set[str]]]:
    """(path, schema keys, values.yaml keys) for every closed object of the schema that values.yaml fills."""
    if schema.get("additionalProperties") is not False or not isinstance(values, dict) or not values:
        return []
    found = [(path or ".", set(schema["properties"]) - {"global"}, set(values))]
    for key, sub in schema["properties"].items():
        if key != "resources":
            found += _key_sets(sub, values.get(key), f"{path}.{key}")
    return found


def test_the_schema_and_values_yaml_name_the_same_keys() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    for path, in_schema, in_values in _key_sets(schema, VALUES):
        assert in_schema == in_values, f"{path}: only in the schema {in_schema - in_values}, " \
                                       f"only in values.yaml {in_values - in_schema}"
