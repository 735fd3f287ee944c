"""The webhooks' serving certificate: rotated on disk, picked up without a restart; bad flags stop start-up."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys

from cryptography import x509
from tests.e2e.helpers import REPO, AdmissionWebhooks, Kube
from tests.e2e.test_admission import apply
from tests.e2e.test_schedule_lifecycle import EXAMPLE_SPEC
from tests.support.waiting import eventually

from sundial.devstack.controlplane import LocalControlPlane
from sundial.devstack.operator_process import OperatorProcess
from sundial.devstack.webhook_certs import issue_serving_cert


def served_serial(port: int) -> int:
    pem = ssl.get_server_certificate(("127.0.0.1", port), timeout=5)
    return int(x509.load_pem_x509_certificate(pem.encode()).serial_number)


def test_a_rotated_certificate_is_served_without_a_restart(
    operator: OperatorProcess, control_plane: LocalControlPlane, kube: Kube, admission_webhooks: AdmissionWebhooks
) -> None:
    port, certs = admission_webhooks.port, admission_webhooks.certs
    cert_file = certs.cert_file
    before, starts = served_serial(port), operator.starts
    issue_serving_cert(certs)
    rotated = int(x509.load_pem_x509_certificate(cert_file.read_bytes()).serial_number)
    assert rotated != before
    eventually("the new certificate served", lambda: served_serial(port) == rotated, timeout=20, interval=0.5)
    assert operator.starts == starts and operator.proc is not None and operator.proc.running()
    namespace = kube.new_namespace()
    result = apply(control_plane, namespace, "after-rotation", EXAMPLE_SPEC)
    assert result.returncode == 0, result.stderr  # the apiserver trusts the new pair (same CA)


def run_flags(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for name in ("SUNDIAL_WEBHOOK_CERT_FILE", "SUNDIAL_WEBHOOK_KEY_FILE", "SUNDIAL_WEBHOOK_PORT"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "sundial.cli", "run", *args], env=env, capture_output=True,
                          text=True, timeout=60)


def test_a_certificate_without_its_key_stops_start_up_with_one_line(admission_webhooks: AdmissionWebhooks) -> None:
    result = run_flags("--webhook-cert", admission_webhooks.env["SUNDIAL_WEBHOOK_CERT_FILE"])
    assert result.returncode == 2
    assert result.stderr.strip() == ("sundial: bad setting: the webhook certificate and key must be given together "
                                     "(--webhook-cert, --webhook-key)")
    missing = run_flags("--webhook-cert", "/nonexistent.crt", "--webhook-key", "/nonexistent.key")
    assert missing.returncode == 2 and "--webhook-cert '/nonexistent.crt': no such file" in missing.stderr
    port = run_flags("--webhook-port", "70000")
    assert port.returncode == 2 and "--webhook-port 70000 is not a TCP port (0-65535)" in port.stderr
