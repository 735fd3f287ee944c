"""Every check a Schedule must pass before Sundial touches Temporal, in one pure call.

The reconcile (``check_spec``) and the validating admission webhook (``domain.admission``)
run the same functions below, so a refusal at ``kubectl apply`` and the ``Stalled``
condition of a spec that got past a disabled webhook carry the same message.

The spec's own rules (domain.rules) and the quotas, which need the other Schedules: the
namespace's and the creator's. The operator keeps both in its indexes, so the checks
cost no API call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from sundial.domain.messages import bounded
from sundial.domain.models import ScheduleSpec, parse_problems
from sundial.domain.rules import LIMIT_REACHED, Limits, namespace_quota_refusal, spec_violations, user_quota_refusal
from sundial.errors import SpecInvalid


@dataclass(frozen=True)
class Peers:
    """The Schedules a quota counts, from the operator's indexes; this one may be among them.

    ``namespace``: the namespace's, as (creationTimestamp, name). ``creator``: the creator's
    in every watched namespace, as (creationTimestamp, "namespace/name").
    """

    namespace: Sequence[tuple[str, str]] = ()
    creator: Sequence[tuple[str, str]] = ()


def spec_problems(
    spec_body: Mapping[str, Any] | None, limits: Limits, now: datetime, *, new: bool = True
) -> tuple[ScheduleSpec | None, list[SpecInvalid]]:
    """The parsed spec (None if it does not parse) and every rule it breaks, in a stable order."""
    try:
        spec = ScheduleSpec.model_validate(dict(spec_body or {}))
    except ValidationError as exc:
        return None, parse_problems(exc, "spec")
    return spec, spec_violations(spec, limits, now, new=new)


def quota_problems(meta: Mapping[str, Any], creator: str, peers: Peers, limits: Limits) -> list[SpecInvalid]:
    """The namespace quota, then the creator's (when the Schedule has a recorded creator)."""
    namespace, name, created = meta["namespace"], meta["name"], meta.get("creationTimestamp")
    problems = [namespace_quota_refusal(
        namespace, name, created, [(sibling, stamp or None) for stamp, sibling in peers.namespace], limits,
    )]
    if creator:
        problems.append(user_quota_refusal(
            creator, f"{namespace}/{name}", created, [(key, stamp or None) for stamp, key in peers.creator], limits,
        ))
    return [problem for problem in problems if problem is not None]


def combined(problems: Sequence[SpecInvalid]) -> SpecInvalid:
    """One refusal for all of them: the first one's reason and field, every message.

    One problem keeps its own message; several are numbered, "2 problems: (1) ...; (2) ...", the whole
    bounded like any message a status shows (``domain.messages``).
    """
    first = problems[0]
    if len(problems) == 1:
        return first
    listed = "; ".join(f"({number}) {problem.message}" for number, problem in enumerate(problems, 1))
    return SpecInvalid(first.reason, first.field, bounded(f"{len(problems)} problems: {listed}"))


def only_quotas(problems: Sequence[SpecInvalid]) -> bool:
    """True when every problem is a quota (403 Forbidden at admission; otherwise 422 Invalid)."""
    return all(problem.reason == LIMIT_REACHED for problem in problems)


def check_spec(
    spec_body: Mapping[str, Any], meta: Mapping[str, Any], peers: Peers, limits: Limits, now: datetime,
    creator: str = "", *, new: bool = True,
) -> ScheduleSpec:
    """The parsed spec, or SpecInvalid naming every rule and quota it breaks (see ``combined``).

    ``new``: the spec was just written (see ``rules.spec_violations``).
    """
    spec, problems = spec_problems(spec_body, limits, now, new=new)
    problems += quota_problems(meta, creator, peers, limits)
    if problems:
        raise combined(problems)
    assert spec is not None  # no problem means it parsed
    return spec
