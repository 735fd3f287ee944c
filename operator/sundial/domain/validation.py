"""Every check a Schedule must pass before Sundial touches Temporal, in one pure call.

The spec's own rules (domain.rules) and the per-namespace quota, which needs the other
Schedules of the namespace: the operator keeps them in a kopf index, so the check costs
no API call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sundial.domain.models import ScheduleSpec
from sundial.domain.rules import Limits, namespace_quota_refusal, validated_spec


def check_spec(
    spec_body: Mapping[str, Any], meta: Mapping[str, Any], siblings: Sequence[tuple[str, str]],
    limits: Limits, now: datetime,
) -> ScheduleSpec:
    """The parsed spec, or SpecInvalid for the first rule it breaks.

    ``siblings`` are the namespace's Schedules as (creationTimestamp, name), this one included or not.
    """
    spec = validated_spec(spec_body, limits, now)
    refusal = namespace_quota_refusal(
        meta["namespace"], meta["name"], meta.get("creationTimestamp"),
        [(name, created or None) for created, name in siblings], limits,
    )
    if refusal is not None:
        raise refusal
    return spec
