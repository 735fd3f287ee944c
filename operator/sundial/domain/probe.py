"""``sundial resume --probe``: the pure part (the probe run's ID, what a failed probe says).

A probe is one run of the schedule's own workflow with its own input, started on request
while the schedule is paused; the automatic pause is lifted only if it succeeds.
"""

from __future__ import annotations

import re
from typing import Final

#: Workflow IDs of probe runs start with this, then the schedule ID: ``probe-<scheduleId>-<token>``.
PROBE_PREFIX: Final = "probe-"
#: What a failed probe appends to the automatic pause's message (and so to the Paused condition).
PROBE_FAILED: Final = "; probe run "
#: A request token as ``sundial resume --probe`` writes it (a time); anything else is refused.
_TOKEN: Final = re.compile(r"^[0-9A-Za-z:._-]{1,64}$")
MAX_MESSAGE: Final = 1000
MAX_ERROR: Final = 500


def valid_token(token: str) -> bool:
    """Whether an annotation value may become part of a workflow ID (anyone can write annotations)."""
    return bool(_TOKEN.match(token))


def probe_workflow_id(schedule_id: str, token: str) -> str:
    """Distinct from the schedule's runs (``<scheduleId>-<time>``) and the same for the same request,
    so a restarted operator finds the probe it started instead of starting another."""
    return f"{PROBE_PREFIX}{schedule_id}-{token}"


def one_line(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters (cut ones end with …)."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: max(0, limit - 1)] + "…"


def failed_probe_message(pause_message: str, workflow_id: str, error: str) -> str:
    """The automatic pause's message with the probe's error (replacing an earlier probe's), bounded."""
    base = pause_message.split(PROBE_FAILED)[0]
    suffix = f"{PROBE_FAILED}{workflow_id} failed: {one_line(error, MAX_ERROR)}"
    return one_line(base, max(0, MAX_MESSAGE - len(suffix))) + suffix
