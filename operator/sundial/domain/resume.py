"""Whether a resource needs Temporal when the operator starts (kopf's resume), decided from its body.

On start kopf resumes every resource. A reconcile describes the Temporal schedule, so a restart
used to cost one describe per resource (10,000 at 10,000 schedules). A resource whose recorded
state is current needs none: its last reconcile succeeded at this generation, for the desired
schedule it would compute now, in this Temporal namespace, and it is settled (the sweep's own
rule: Active or Paused, fingerprint recorded, no pause in flight, not being deleted). The first
sweep's list pages then confirm it against Temporal, and the rolling full check covers what a
list cannot show. Everything else (changed while the operator was down, Error, Pending,
Reconciling, Invalid, Completed, adopted) is reconciled as before. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sundial.domain.indexed import indexed_from_body


def recorded_is_current(body: Mapping[str, Any], desired_hash: str | None, schedule_id: str,
                        temporal_namespace: str) -> bool:
    """See the module docstring; ``desired_hash`` is None when the spec no longer validates."""
    indexed = indexed_from_body(body)
    temporal = (body.get("status") or {}).get("temporal") or {}
    return (indexed.settled and not indexed.adopted and desired_hash is not None
            and temporal.get("specHash") == desired_hash and temporal.get("scheduleId") == schedule_id
            and temporal.get("namespace") == temporal_namespace)
