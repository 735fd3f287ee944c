"""The admission webhooks on a local stack: a throwaway CA, a serving certificate, the registration.

``sundial dev`` and the e2e tests run the operator on the host, not in a pod, so the
webhook configurations point at it by ``url: https://127.0.0.1:<port>/...`` with the CA in
``caBundle`` (a cluster's Helm chart uses a Service reference and injected CA instead; see
docs/admission.md). The settings are the production defaults: CREATE and UPDATE only
(never DELETE, so deletions and prunes work while the operator is down), ``sideEffects:
None`` (so ``--dry-run=server`` is judged too), ``failurePolicy: Fail`` and a short timeout.
The finalizer webhook (CREATE only) is the exception: ``failurePolicy: Ignore``, since
without it kopf adds the finalizer itself (one request more) and nothing is lost.

Namespaces labelled ``sundial.dev/webhook=off`` are left out (``namespaceSelector``): there
the reconcile's checks alone apply, which is how the tests show the status-side backstop.

The certificates need ``cryptography`` (in the ``dev`` extra, like the kubectl and temporal
wheels ``sundial dev`` also needs); the operator itself only reads the PEM files.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import ssl
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sundial.devstack.processes import StackError

CONFIGURATION = "sundial-schedules"
BYPASS_LABEL = ("sundial.dev/webhook", "off")
TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class WebhookCerts:
    """PEM files: the CA the apiserver trusts and the operator's serving pair."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    @property
    def ca_bundle(self) -> str:
        """The CA as the base64 text a webhook configuration's ``caBundle`` wants."""
        return base64.b64encode(self.ca_file.read_bytes()).decode()


def _crypto() -> Any:
    try:
        from cryptography import x509
    except ImportError as exc:  # pragma: no cover - the dev extra brings it
        raise StackError("the local webhook certificates need `cryptography`: pip install 'sundial[dev]'") from exc
    return x509


def _key_pem(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))


def generate_certs(directory: Path, days: int = 30) -> WebhookCerts:
    """A new CA and a serving certificate for 127.0.0.1 and localhost, written to ``directory``."""
    x509 = _crypto()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "sundial local webhook CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=days))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, _sha256()))
    certs = WebhookCerts(directory / "ca.crt", directory / "tls.crt", directory / "tls.key")
    certs.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "ca.key").write_bytes(_key_pem(ca_key))
    (directory / "ca.key").chmod(0o600)
    issue_serving_cert(certs, days)
    return certs


def _sha256() -> Any:
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA256()


def issue_serving_cert(certs: WebhookCerts, days: int = 30) -> None:
    """A fresh serving pair from the CA, written over the old one (a rotation, as cert-manager does)."""
    x509 = _crypto()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    ca = x509.load_pem_x509_certificate(certs.ca_file.read_bytes())
    ca_key = serialization.load_pem_private_key((certs.ca_file.parent / "ca.key").read_bytes(), None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "sundial-webhook")]))
            .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, _sha256()))
    key_tmp, cert_tmp = certs.key_file.with_suffix(".key.tmp"), certs.cert_file.with_suffix(".crt.tmp")
    key_tmp.write_bytes(_key_pem(key))
    key_tmp.chmod(0o600)
    cert_tmp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_tmp.replace(certs.key_file)
    cert_tmp.replace(certs.cert_file)


def _webhook(name: str, path: str, port: int, certs: WebhookCerts, operations: tuple[str, ...] = ("CREATE", "UPDATE"),
             failure_policy: str = "Fail") -> dict[str, Any]:
    return {
        "name": name,
        "clientConfig": {"url": f"https://127.0.0.1:{port}{path}", "caBundle": certs.ca_bundle},
        "rules": [{"apiGroups": ["sundial.dev"], "apiVersions": ["v1alpha1"], "resources": ["schedules"],
                   "operations": list(operations), "scope": "Namespaced"}],
        "namespaceSelector": {"matchExpressions": [
            {"key": BYPASS_LABEL[0], "operator": "NotIn", "values": [BYPASS_LABEL[1]]}]},
        "admissionReviewVersions": ["v1"],
        "sideEffects": "None",
        "failurePolicy": failure_policy,
        "matchPolicy": "Equivalent",
        "timeoutSeconds": TIMEOUT_SECONDS,
    }


def webhook_configurations(port: int, certs: WebhookCerts, finalizer: bool = True) -> list[dict[str, Any]]:
    """The Validating- and MutatingWebhookConfiguration for an operator on 127.0.0.1:``port``; the
    finalizer webhook unless ``finalizer`` is False (as on a cluster that does not register it)."""
    mutating = [{**_webhook("mutate.schedules.sundial.dev", "/mutate", port, certs), "reinvocationPolicy": "Never"}]
    if finalizer:
        mutating.append({**_webhook("finalizer.schedules.sundial.dev", "/finalizer", port, certs, ("CREATE",),
                                    "Ignore"), "reinvocationPolicy": "Never"})
    return [
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
         "metadata": {"name": CONFIGURATION}, "webhooks": mutating},
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
         "metadata": {"name": CONFIGURATION},
         "webhooks": [_webhook("validate.schedules.sundial.dev", "/validate", port, certs)]},
    ]


def register_webhooks(kubectl: list[str], port: int, certs: WebhookCerts, finalizer: bool = True) -> None:
    """Apply both configurations with ``kubectl`` (its binary and cluster flags)."""
    manifest = json.dumps({"apiVersion": "v1", "kind": "List",
                           "items": webhook_configurations(port, certs, finalizer)})
    result = subprocess.run([*kubectl, "apply", "-f", "-"], input=manifest, text=True, capture_output=True)
    if result.returncode != 0:
        raise StackError(f"registering the admission webhooks failed: {result.stderr.strip()}")


def unregister_webhooks(kubectl: list[str]) -> None:
    """Remove both configurations (creates and edits go through unjudged until they are back)."""
    for kind in ("validatingwebhookconfiguration", "mutatingwebhookconfiguration"):
        subprocess.run([*kubectl, "delete", kind, CONFIGURATION, "--ignore-not-found"], check=True,
                       capture_output=True, text=True)


def webhook_env(port: int, certs: WebhookCerts) -> dict[str, str]:
    """The operator's settings for serving the webhooks from these files."""
    return {"SUNDIAL_WEBHOOK_PORT": str(port), "SUNDIAL_WEBHOOK_CERT_FILE": str(certs.cert_file),
            "SUNDIAL_WEBHOOK_KEY_FILE": str(certs.key_file)}


def local_webhooks(kubectl: list[str], directory: Path, port: int) -> dict[str, str]:
    """Certificates in ``directory``, both configurations registered: the operator's webhook settings."""
    certs = generate_certs(directory)
    register_webhooks(kubectl, port, certs)
    return webhook_env(port, certs)


def webhooks_listening(port: int, host: str = "127.0.0.1") -> bool:
    """True once something serves TLS on ``host``:``port`` (a start-up probe, not a trust check)."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with urllib.request.urlopen(f"https://{host}:{port}/healthz", timeout=1, context=context) as resp:
        return bool(resp.status == 200)
