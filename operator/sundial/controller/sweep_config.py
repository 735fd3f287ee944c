"""How often and how the drift sweeper works, from the operator settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sundial.settings import Settings


@dataclass(frozen=True)
class SweepConfig:
    """How often and how the sweeper works."""

    interval_seconds: float = 60.0
    orphan_policy: str = "pause"
    overdue_grace: timedelta = timedelta(minutes=5)
    page_size: int = 1000
    concurrency: int = 8
    namespaces: tuple[str, ...] = ()  # a namespace-scoped operator's namespaces; empty: all
    full_check_seconds: float = 3600.0  # every schedule fully compared (described) within this period

    @classmethod
    def from_settings(cls, settings: Settings, namespaces: Sequence[str] = ()) -> SweepConfig:
        """From the operator settings (validated at start-up)."""
        return cls(interval_seconds=settings.resync_seconds, orphan_policy=settings.orphan_policy,
                   overdue_grace=timedelta(seconds=settings.overdue_grace_seconds),
                   page_size=settings.sweep_page_size,
                   concurrency=max(1, min(16, settings.max_concurrent_temporal_calls)),
                   namespaces=tuple(namespaces), full_check_seconds=settings.full_check_seconds)
