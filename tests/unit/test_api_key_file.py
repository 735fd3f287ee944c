"""The Temporal API key from a mounted file: read at start, followed when Kubernetes rotates it."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from sundial.controller.credentials import follow_api_key_file
from sundial.errors import SettingsError
from sundial.settings import load_settings, read_api_key


def test_the_key_comes_from_the_file_stripped(tmp_path: Path) -> None:
    key = tmp_path / "api-key"
    key.write_text("secret-1\n")
    settings = load_settings({"SUNDIAL_TEMPORAL_API_KEY_FILE": str(key)})
    assert read_api_key(settings) == "secret-1"
    assert "secret-1" not in repr(settings)


def test_a_missing_key_file_is_a_bad_setting(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"SUNDIAL_TEMPORAL_API_KEY_FILE=.*no such file"):
        load_settings({"SUNDIAL_TEMPORAL_API_KEY_FILE": str(tmp_path / "absent")})


def test_key_and_key_file_together_are_refused(tmp_path: Path) -> None:
    key = tmp_path / "api-key"
    key.write_text("k")
    with pytest.raises(SettingsError, match="not both"):
        load_settings({"SUNDIAL_TEMPORAL_API_KEY": "k", "SUNDIAL_TEMPORAL_API_KEY_FILE": str(key)})


async def test_a_rotated_key_is_applied_once(tmp_path: Path) -> None:
    key = tmp_path / "api-key"
    key.write_text("old")
    applied: list[str] = []
    seen = asyncio.Event()

    def apply(value: str) -> None:
        applied.append(value)
        seen.set()

    stop = asyncio.Event()
    task = asyncio.create_task(follow_api_key_file(key, "old", apply, stop,
                                                   logging.getLogger("test"), interval=0.05))
    key.write_text("new\n")
    await asyncio.wait_for(seen.wait(), 5)
    await asyncio.sleep(0.2)  # a few more polls of an unchanged file must not apply it again
    stop.set()
    await asyncio.wait_for(task, 2)
    assert applied == ["new"]


async def test_an_unreadable_file_keeps_the_current_key(tmp_path: Path) -> None:
    applied: list[str] = []
    stop = asyncio.Event()
    task = asyncio.create_task(follow_api_key_file(tmp_path / "gone", "old", applied.append, stop,
                                                   logging.getLogger("test"), interval=0.05))
    await asyncio.sleep(0.2)
    stop.set()
    await asyncio.wait_for(task, 2)
    assert applied == []
