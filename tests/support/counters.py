"""Stand-ins for the adapters' counters that the metrics read at scrape time (``ports.TemporalCounters``,
``ports.KubeCounters``)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class FakeTemporal:
    calls: defaultdict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: {"ok": 0, "error": 0}))
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    list_pages: int = 0


@dataclass
class FakeKube:
    writes: dict[str, int] = field(default_factory=dict)
