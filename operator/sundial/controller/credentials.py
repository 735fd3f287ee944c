"""Follow a rotated Temporal API key: Kubernetes rewrites a mounted Secret's file in place.

The key file (``SUNDIAL_TEMPORAL_API_KEY_FILE``) is read when the client connects; this loop
reads it again every ``interval`` seconds and hands a changed key to the live client, so a
rotation needs no restart and the key never sits in the environment.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path


async def follow_api_key_file(path: Path, current: str | None, apply: Callable[[str], None],
                              stop: asyncio.Event, logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
                              interval: float = 30.0) -> None:
    """Until ``stop``: when the file's stripped content differs from the last key, ``apply`` it."""
    last = current
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
            return
        except TimeoutError:
            pass
        try:
            key = (await asyncio.to_thread(path.read_text)).strip()
        except OSError as exc:  # mid-rotation or removed: keep the key in use, try again later
            logger.warning(f"Temporal API key file {path} unreadable ({exc}); keeping the current key")
            continue
        if key and key != last:
            apply(key)
            last = key
            logger.info(f"Temporal API key re-read from {path} (rotated)")
