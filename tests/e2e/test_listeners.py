"""The operator's liveness and metrics endpoints listen only where ``SUNDIAL_BIND_ADDRESS`` says (item 18).

Every 127.0.0.0/8 address is the loopback on Linux, so an operator bound to 127.0.0.2
answers there and refuses connections on 127.0.0.1: what "pod IP only" means in a pod.
"""

from __future__ import annotations

import socket

from tests.e2e.helpers import Replacements


def accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def test_liveness_and_metrics_listen_on_the_bind_address_only(replace_operator: Replacements) -> None:
    bound = replace_operator("bound", SUNDIAL_BIND_ADDRESS="127.0.0.2")  # started: both answered there
    assert bound.host == "127.0.0.2" and "# HELP" in bound.metrics_text()
    for port in (bound.liveness_port, bound.metrics_port):
        assert accepts("127.0.0.2", port)
        assert not accepts("127.0.0.1", port), f"port {port} listens on more than the bind address"
