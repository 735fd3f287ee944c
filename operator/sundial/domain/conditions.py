"""The status conditions' types and reasons: the one place they are named, each with its meaning.

``docs/reference.md`` (``make docs``) lists ``TYPES`` and ``REASONS`` from here, and a unit test
fails when a constant has no meaning. Refusals (``Stalled=True``) add the rule's own reason, e.g.
``IntervalTooShort``; those come with the rule that refuses (``domain/rules.py``).
The constants are ``Final`` so that mypy reads them as literals where a literal is wanted
(``phase: PENDING``).
"""

from __future__ import annotations

from typing import Final

# --- condition types ---------------------------------------------------------------------
READY: Final = "Ready"
PAUSED: Final = "Paused"
RECONCILING: Final = "Reconciling"
STALLED: Final = "Stalled"
FIRING: Final = "Firing"
RUN_ACCOUNTING: Final = "RunAccounting"

# --- reasons -----------------------------------------------------------------------------
SYNCED: Final = "Synced"
ACTIVE: Final = "Active"
USER_REQUESTED: Final = "UserRequested"
CONSECUTIVE_FAILURES: Final = "ConsecutiveFailures"
BUDGET_EXHAUSTED: Final = "BudgetExhausted"
TEMPORAL_UNAVAILABLE: Final = "TemporalUnavailable"
TEMPORAL_REJECTED: Final = "TemporalRejected"
TEMPORAL_UNAUTHORIZED: Final = "TemporalUnauthorized"
TEMPORAL_NAMESPACE_NOT_FOUND: Final = "TemporalNamespaceNotFound"
INSTALL_CONFLICT: Final = "InstallConflict"
SCHEDULE_CONFLICT: Final = "ScheduleConflict"
INTERNAL_ERROR: Final = "InternalError"
SPEC_VALID: Final = "SpecValid"
DELETING: Final = "Deleting"
OVERDUE: Final = "Overdue"
ON_TIME: Final = "OnTime"
PENDING: Final = "Pending"
PROGRESSING: Final = "Progressing"
COMPLETED: Final = "Completed"
ACCOUNTING_STUCK: Final = "AccountingStuck"
COUNTED: Final = "Counted"

#: Condition type -> what it means, in the order conditions are listed in a status.
TYPES: Final[dict[str, str]] = {
    READY: "The Temporal schedule matches the spec (True), or why it cannot (False).",
    PAUSED: "The schedule does not fire: paused by the spec or automatically (True).",
    RECONCILING: "The operator is changing the Temporal schedule to match a new spec.",
    STALLED: "The spec is refused (invalid, over a limit, or rejected by Temporal); the last good schedule stays.",
    FIRING: "Runs start when due (True), or the next run time passed without a run (False, Overdue).",
    RUN_ACCOUNTING: "Present only once run accounting failed repeatedly: False while stuck, True once it counts again.",
}

#: Reason -> what it means.
REASONS: Final[dict[str, str]] = {
    SYNCED: "Ready: the Temporal schedule matches the spec.",
    ACTIVE: "Paused=False: the schedule fires.",
    USER_REQUESTED: "Paused=True because spec.paused is true (spec.pauseReason says why).",
    CONSECUTIVE_FAILURES: "Paused=True automatically after policy.maxConsecutiveFailures failed runs in a row.",
    BUDGET_EXHAUSTED: "Paused=True automatically: the runs' total cost reached policy.maxTotalBudgetUSD.",
    TEMPORAL_UNAVAILABLE: "Ready=False: Temporal did not answer; the operator retries with backoff.",
    TEMPORAL_REJECTED: "Stalled=True: Temporal refused the schedule (its message is kept).",
    TEMPORAL_UNAUTHORIZED: "Ready=False: Temporal refused the operator's credentials or grants; retried with "
                           "backoff, recovers by itself once an admin fixes them.",
    TEMPORAL_NAMESPACE_NOT_FOUND: "Ready=False: the operator's Temporal namespace does not exist; retried with "
                                  "backoff, recovers by itself once it is created.",
    INSTALL_CONFLICT: "Ready=False: the schedule at this ID was written by another operator install with the "
                      "same cluster ID; nothing is touched (docs/operations-security.md).",
    SCHEDULE_CONFLICT: "Stalled=True: the schedule's Temporal ID is held by a Temporal schedule that is not this "
                       "resource's; nothing is touched.",
    INTERNAL_ERROR: "Ready=False, phase Error: an error nobody planned for (its type and message are shown, "
                    "with a Warning Event); retried with backoff.",
    SPEC_VALID: "Stalled=False: the spec passed every rule.",
    DELETING: "The resource is being deleted; the Temporal schedule goes first.",
    OVERDUE: "Firing=False: the next run time passed the grace period without a run.",
    ON_TIME: "Firing=True: runs start when due.",
    PENDING: "Ready=False before the first sync: the Temporal schedule is not created yet.",
    PROGRESSING: "Reconciling=True: a new generation of the spec is being applied to Temporal.",
    COMPLETED: "Ready=True, phase Completed: the schedule can never fire again (endAt passed or maxRuns used).",
    ACCOUNTING_STUCK: "RunAccounting=False: counting this schedule's runs failed repeatedly; retried with backoff.",
    COUNTED: "RunAccounting=True: run accounting works again after being stuck.",
}

MEANINGS: Final[dict[str, str]] = {**TYPES, **REASONS}
