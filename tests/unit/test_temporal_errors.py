"""Temporal's errors in Sundial's terms (issue 10, item 12): the operator's access is temporary.

The dev server has no authentication, so UNAUTHENTICATED and PERMISSION_DENIED are made here
as the SDK raises them; the missing namespace is also checked on the real server
(``tests/integration/test_run_queries.py``, ``tests/e2e/test_temporal_access.py``).
"""

from __future__ import annotations

import pytest
from temporalio.service import RPCError, RPCStatusCode

from sundial.adapters.temporal_mapping import translate
from sundial.domain import conditions as cond
from sundial.domain import status as st
from sundial.errors import (
    ScheduleNotFound,
    TemporalNamespaceNotFound,
    TemporalRejected,
    TemporalUnauthorized,
    TemporalUnavailable,
)


@pytest.mark.parametrize("code", [RPCStatusCode.UNAUTHENTICATED, RPCStatusCode.PERMISSION_DENIED])
def test_refused_credentials_are_temporary_and_say_so(code: RPCStatusCode) -> None:
    error = translate(RPCError("Request unauthorized.", code, b""), "describe schedule")
    assert isinstance(error, TemporalUnauthorized) and isinstance(error, TemporalUnavailable)
    assert error.reason == cond.TEMPORAL_UNAUTHORIZED
    assert "credentials" in str(error)


def test_a_missing_namespace_is_temporary_but_a_missing_schedule_is_not_found() -> None:
    missing = translate(RPCError("Namespace nope is not found.", RPCStatusCode.NOT_FOUND, b""), "list")
    assert isinstance(missing, TemporalNamespaceNotFound) and isinstance(missing, TemporalUnavailable)
    assert missing.reason == cond.TEMPORAL_NAMESPACE_NOT_FOUND
    assert "SUNDIAL_TEMPORAL_NAMESPACE" in str(missing)
    schedule = translate(RPCError("schedule not found for ID: sundial.abc.namespace-a.x",
                                  RPCStatusCode.NOT_FOUND, b""), "describe")
    assert isinstance(schedule, ScheduleNotFound)


def test_an_invalid_request_stays_rejected() -> None:
    assert isinstance(translate(RPCError("bad cron", RPCStatusCode.INVALID_ARGUMENT, b""), "create"),
                      TemporalRejected)


def test_a_refusal_of_the_operator_is_never_stalled() -> None:
    from datetime import UTC, datetime

    status = st.unavailable_status({}, 3, "Request unauthorized.", datetime(2026, 12, 1, tzinfo=UTC),
                                   cond.TEMPORAL_UNAUTHORIZED)
    reasons = {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}
    assert reasons == {"Ready": ("False", "TemporalUnauthorized"), "Reconciling": ("True", "TemporalUnauthorized")}
    assert status["phase"] == "Pending"  # never synced: not Invalid, nothing in the spec is wrong
    synced = st.unavailable_status({"temporal": {"scheduleId": "s"}}, 3, "x", datetime(2026, 12, 1, tzinfo=UTC),
                                   cond.TEMPORAL_NAMESPACE_NOT_FOUND)
    assert synced["phase"] == "Error"
