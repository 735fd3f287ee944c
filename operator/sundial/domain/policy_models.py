"""The SchedulePolicy resource (cluster-scoped) as typed, frozen models: its CRD comes from here.

A platform team's limits per tenant, the way ResourceQuota and LimitRange work: a label
selector picks namespaces, and every limit it sets applies to the Schedules there. Each
field's docstring is its ``kubectl explain schedulepolicy.spec`` text. How several policies
combine with each other and with the operator's settings is ``domain.policy``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, field_validator

from sundial.domain.durations import InvalidDuration, parse_duration
from sundial.domain.models import Model
from sundial.domain.status_models import Condition

MAX_MIN_INTERVAL = timedelta(days=366)
SelectorOperator = Literal["In", "NotIn", "Exists", "DoesNotExist"]


class LabelSelectorRequirement(Model):
    """One requirement on a namespace's labels, as in a Kubernetes label selector."""

    key: str = Field(min_length=1, max_length=317)
    """The label key the requirement is about."""
    operator: SelectorOperator
    """In, NotIn, Exists or DoesNotExist."""
    values: list[str] = Field(default_factory=list, max_length=256)
    """For In and NotIn: the values (at least one); for Exists and DoesNotExist: empty."""


class LabelSelector(Model):
    """Which namespaces the policy governs; both parts must match (AND). Empty: every namespace."""

    match_labels: dict[str, str] = Field(default_factory=dict)
    """Labels a namespace must carry with exactly these values."""
    match_expressions: list[LabelSelectorRequirement] = Field(default_factory=list, max_length=64)
    """Requirements a namespace's labels must all meet."""


class SchedulePolicySpec(Model):
    """Limits on the Schedules of the selected namespaces; an omitted limit leaves the operator's setting
    (or another policy's value) in force. Where several policies select a namespace, the strictest wins."""

    namespace_selector: LabelSelector = Field(default_factory=LabelSelector)
    """The namespaces governed, by label (a Kubernetes label selector); empty selects every namespace."""
    min_interval: str | None = Field(default=None, max_length=32)
    """Smallest gap between two runs, as whole minutes written as a duration (5m, 1h, 1h30m); 0 means no
    minimum. Replaces SCHEDULE_MIN_INTERVAL_MINS in the selected namespaces."""
    max_schedules_per_namespace: int | None = Field(default=None, ge=1)
    """Most Schedules in each selected namespace. Replaces SCHEDULE_MAX_PER_NAMESPACE."""
    max_schedules_per_user: int | None = Field(default=None, ge=1)
    """Most Schedules one creator may have (counted in every namespace, as SCHEDULE_MAX_PER_USER counts),
    applied to their Schedules in the selected namespaces. Replaces SCHEDULE_MAX_PER_USER."""
    max_budget_per_run_usd: float | None = Field(default=None, alias="maxBudgetPerRunUSD", ge=0,
                                                 allow_inf_nan=False)
    """Cap on spec.maxBudgetPerRunUSD, in US dollars. Replaces SCHEDULE_MAX_BUDGET_USD."""
    max_total_budget_usd: float | None = Field(default=None, alias="maxTotalBudgetUSD", ge=0, allow_inf_nan=False)
    """Cap on spec.policy.maxTotalBudgetUSD, in US dollars; when set, every Schedule must set that field."""
    allowed_workflow_types: list[str] | None = Field(default=None, max_length=64)
    """Workflow types a Schedule may name (an omitted spec.workflow.type is the operator's default, always
    allowed; "*" allows any). Replaces SUNDIAL_ALLOWED_WORKFLOW_TYPES."""
    allowed_task_queues: list[str] | None = Field(default=None, max_length=64)
    """Task queues a Schedule may name ("*" allows any). Replaces SUNDIAL_ALLOWED_TASK_QUEUES."""
    allowed_time_zones: list[str] | None = Field(default=None, max_length=512)
    """IANA time zones a Schedule may use in spec.timeZone; unset: any."""

    @field_validator("min_interval")
    @classmethod
    def _whole_minutes(cls, value: str | None) -> str | None:
        if value is not None:
            minutes(value)
        return value

    @property
    def min_interval_minutes(self) -> int | None:
        return None if self.min_interval is None else minutes(self.min_interval)


def minutes(text: str) -> int:
    """A minInterval in whole minutes; ValueError (naming the value) for anything else."""
    try:
        gap = parse_duration(text, MAX_MIN_INTERVAL)
    except InvalidDuration as exc:
        raise ValueError(str(exc)) from None
    if gap % timedelta(minutes=1):
        raise ValueError(f'"{text}" is not a whole number of minutes (e.g. 5m, 1h, 1h30m)')
    return gap // timedelta(minutes=1)


class SchedulePolicyStatus(Model):
    """What the policy governs now, refreshed by the operator when it changes."""

    observed_generation: int | None = None
    """metadata.generation of the policy these counts were made with."""
    namespaces: int = 0
    """Namespaces the selector picks."""
    schedules: int = 0
    """Schedules in those namespaces."""
    violating: int = 0
    """Schedules refused (Stalled) for a limit this policy set."""
    conditions: list[Condition] = Field(default_factory=list)
    """Ready: the policy parsed and applies (False, reason InvalidPolicy, when it does not)."""


def parse_policy(spec: dict[str, Any] | None) -> SchedulePolicySpec:
    """The policy's spec (pydantic's ValidationError when malformed; the operator then ignores it)."""
    return SchedulePolicySpec.model_validate(spec or {})
