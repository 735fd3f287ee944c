"""Sundial's own exceptions: one root, so callers can catch what they mean.

    SundialError
    ├── SpecInvalid            a Schedule's spec breaks a rule; carries reason, field, message
    ├── SettingsError          a bad operator setting (start-up stops with one line)
    ├── TemporalError          anything Temporal said or failed to say
    │   ├── TemporalUnavailable    the server did not answer (retry with backoff)
    │   │   └── TemporalAccessError    it answered, but not for us yet (retry; an admin fixes it)
    │   │       ├── TemporalUnauthorized       UNAUTHENTICATED / PERMISSION_DENIED
    │   │       └── TemporalNamespaceNotFound  the configured Temporal namespace does not exist
    │   ├── ScheduleNotFound       no schedule with that ID
    │   ├── ScheduleAlreadyExists  the ID is taken (adopt it, never create a second)
    │   └── TemporalRejected       the server refused the request (e.g. INVALID_ARGUMENT)
    └── KubeError              anything the Kubernetes API said or failed to say
        ├── KubeNotFound           no such object (404)
        ├── KubeConflict           a write on a resourceVersion that is no longer current (409)
        ├── KubeUnavailable        the API server did not answer, or 429/5xx (retry with backoff)
        └── KubeForbidden          401/403: the operator's credentials or RBAC do not allow it
"""

from __future__ import annotations


class SundialError(Exception):
    """Root of every error Sundial raises on purpose."""


class SpecInvalid(SundialError):
    """A spec that breaks a rule (``domain/rules.py``); permanent until the spec changes."""

    def __init__(self, reason: str, field: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.field = field
        self.message = message


class SettingsError(SundialError):
    """An operator setting with a bad value."""


class TemporalError(SundialError):
    """Temporal failed or refused."""


class TemporalUnavailable(TemporalError):
    """Temporal could not be reached; the call may succeed later. ``reason``: the condition reason."""

    reason = "TemporalUnavailable"


class TemporalOutcomeUnknown(TemporalUnavailable):
    """The call timed out or was cancelled on its way (DEADLINE_EXCEEDED, CANCELLED): Temporal may have done it.

    Waited out like any outage by the idempotent calls (create, update, describe); a trigger is
    not sent again after it, since a second one would start a second run.
    """


class TemporalAccessError(TemporalUnavailable):
    """The operator's own access to Temporal is broken: a credential, a grant, the namespace.

    Never the user's mistake and never permanent: every caller that waits out an outage
    waits this out too (it is a ``TemporalUnavailable``), and the status names ``reason``.
    """


class TemporalUnauthorized(TemporalAccessError):
    """Temporal refused the operator's credentials (UNAUTHENTICATED, PERMISSION_DENIED)."""

    reason = "TemporalUnauthorized"


class TemporalNamespaceNotFound(TemporalAccessError):
    """The operator's Temporal namespace does not exist (not yet, or a typo in the setting)."""

    reason = "TemporalNamespaceNotFound"


class ScheduleNotFound(TemporalError):
    """No Temporal schedule with the given ID."""


class ScheduleAlreadyExists(TemporalError):
    """A Temporal schedule with the given ID exists already."""


class TemporalRejected(TemporalError):
    """Temporal refused the request as invalid (it will not succeed on retry)."""


class KubeError(SundialError):
    """The Kubernetes API failed or refused; ``status`` is the HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class KubeNotFound(KubeError):
    """No object with that namespace and name."""


class KubeConflict(KubeError):
    """The object changed since it was read (a write on an old resourceVersion)."""


class KubeUnavailable(KubeError):
    """The API server did not answer, was overloaded (429) or failed (5xx); the call may succeed later."""


class KubeForbidden(KubeError):
    """Not allowed (401/403): credentials or RBAC; retrying will not help until they change."""
