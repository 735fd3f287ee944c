"""Where the operator's endpoints listen (issue 10, item 18): one setting, loopback in ``sundial dev``."""

from __future__ import annotations

from pathlib import Path

import pytest

from sundial.controller.main import url_host
from sundial.devstack.stack import DevStack
from sundial.devstack.temporal_dev import TemporalDevServer
from sundial.errors import SettingsError
from sundial.settings import load_settings


def test_the_bind_address_is_an_ip_address() -> None:
    assert load_settings({}).bind_address == "0.0.0.0"  # the operator in a pod; the chart sets the pod IP
    assert load_settings({"SUNDIAL_BIND_ADDRESS": "10.1.2.3"}).bind_address == "10.1.2.3"
    assert load_settings({"SUNDIAL_BIND_ADDRESS": "[::1]"}).bind_address == "::1"
    with pytest.raises(SettingsError, match=r"SUNDIAL_BIND_ADDRESS='localhost' is not an IP address"):
        load_settings({"SUNDIAL_BIND_ADDRESS": "localhost"})


def test_ipv6_goes_in_brackets_in_a_url() -> None:
    assert (url_host("10.1.2.3"), url_host("::1")) == ("10.1.2.3", "[::1]")


def test_sundial_dev_listens_on_loopback_unless_told_otherwise(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    stack = DevStack(workdir=tmp_path, temporal=TemporalDevServer(tmp_path / "temporal", tmp_path))
    monkeypatch.delenv("SUNDIAL_BIND_ADDRESS", raising=False)
    assert stack.child_env()["SUNDIAL_BIND_ADDRESS"] == "127.0.0.1"
    monkeypatch.setenv("SUNDIAL_BIND_ADDRESS", "0.0.0.0")
    assert stack.child_env()["SUNDIAL_BIND_ADDRESS"] == "0.0.0.0"
