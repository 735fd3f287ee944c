"""Admission decisions for Schedules: what the validating and mutating webhooks answer. Pure.

The validating webhook runs the reconcile's own checks (``domain.validation``), so a refusal
at ``kubectl apply`` carries the message the ``Stalled`` condition would carry, every problem
at once: 422 ``Invalid`` for a spec, 403 ``Forbidden`` for a quota or for a hand-written
creator. Quotas are counted on CREATE only: an edit of an existing schedule never turns into
a quota refusal. On UPDATE the spec is checked only when it changed, so metadata writes
(finalizers, ``sundial pause``'s annotations, a deletion) always go through, even for a
spec that became invalid when an operator limit was lowered.

The creator (annotation ``sundial.dev/created-by``) is stamped by the mutating webhook on
CREATE with the requesting user's name, and put back on UPDATE when a write drops it (a
server-side apply or ``kubectl replace`` of a manifest that does not carry it). Only the
operator's own identity may set or change it by hand.

A second mutating webhook adds the operator's finalizer on CREATE (``add_finalizer``), so kopf
finds it on the new object and skips the PATCH it would otherwise send to add it: one
Kubernetes request less per new Schedule. It never refuses and never touches an UPDATE.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sundial.domain.rules import Limits
from sundial.domain.validation import Peers, combined, only_quotas, quota_problems, spec_problems
from sundial.domain.warnings import spec_warnings
from sundial.errors import SpecInvalid

CREATOR_ANNOTATION = "sundial.dev/created-by"
_CREATOR_PATH = "/metadata/annotations/" + CREATOR_ANNOTATION.replace("~", "~0").replace("/", "~1")
FINALIZER = "sundial.dev/temporal-schedule"  # kopf is told to use this one (``controller/handlers.py``)


@dataclass(frozen=True)
class Verdict:
    """One admission answer: allowed or not, the HTTP code and reason, warnings, a JSON patch."""

    allowed: bool
    code: int = 200
    reason: str = ""
    message: str = ""
    warnings: tuple[str, ...] = ()
    patch: tuple[dict[str, Any], ...] = field(default_factory=tuple)


def creator_of(obj: Mapping[str, Any] | None) -> str:
    """The recorded creator of a Schedule body, or ''."""
    annotations = ((obj or {}).get("metadata") or {}).get("annotations") or {}
    return str(annotations.get(CREATOR_ANNOTATION) or "")


def _creator_problem(request: Mapping[str, Any], operator_users: Collection[str]) -> SpecInvalid | None:
    user = (request.get("userInfo") or {}).get("username", "")
    if user in operator_users:
        return None
    field_name = f'metadata.annotations["{CREATOR_ANNOTATION}"]'
    new = creator_of(request.get("object"))
    if request.get("operation") == "CREATE":
        if new and new != user:
            return SpecInvalid("CreatorForbidden", field_name,
                               f'{field_name}: "{new}" cannot be set by hand; Sundial records the creating '
                               f'user ("{user}")')
        return None
    old = creator_of(request.get("oldObject"))
    if new != old:
        return SpecInvalid("CreatorForbidden", field_name,
                           f'{field_name}: cannot be changed from "{old}" to "{new}"; it records who created '
                           "the schedule")
    return None


def validate(
    request: Mapping[str, Any], peers: Peers, limits: Limits, now: datetime, operator_users: Collection[str],
) -> Verdict:
    """The validating webhook's answer to one AdmissionRequest for a Schedule."""
    operation = request.get("operation")
    obj: Mapping[str, Any] = request.get("object") or {}
    old: Mapping[str, Any] = request.get("oldObject") or {}
    meta = obj.get("metadata") or {}
    if operation not in ("CREATE", "UPDATE") or (operation == "UPDATE" and meta.get("deletionTimestamp")):
        return Verdict(allowed=True)
    problems: list[SpecInvalid] = []
    creator_problem = _creator_problem(request, operator_users)
    problems += [creator_problem] if creator_problem else []
    warnings: list[str] = []
    if operation == "CREATE" or obj.get("spec") != old.get("spec"):
        spec, found = spec_problems(obj.get("spec"), limits, now)
        problems += found
        warnings = spec_warnings(spec, now) if spec is not None and not found else []
    if operation == "CREATE":
        user = (request.get("userInfo") or {}).get("username", "")
        named = {"namespace": request.get("namespace") or meta.get("namespace", ""),
                 "name": meta.get("name") or request.get("name") or "", "creationTimestamp": None}
        problems += quota_problems(named, creator_of(obj) or user, peers, limits)
    if not problems:
        return Verdict(allowed=True, warnings=tuple(warnings))
    refusal = combined(problems)
    forbidden = only_quotas(problems) or (creator_problem is not None and len(problems) == 1)
    return Verdict(allowed=False, code=403 if forbidden else 422, reason="Forbidden" if forbidden else "Invalid",
                   message=refusal.message, warnings=tuple(warnings))


def mutate(request: Mapping[str, Any]) -> Verdict:
    """The mutating webhook's answer: stamp the creator on CREATE, put it back if an UPDATE drops it."""
    obj: Mapping[str, Any] = request.get("object") or {}
    current = creator_of(obj)
    if request.get("operation") == "CREATE":
        wanted = (request.get("userInfo") or {}).get("username", "")
    elif request.get("operation") == "UPDATE":
        wanted = creator_of(request.get("oldObject"))
    else:
        wanted = ""
    if current or not wanted:
        return Verdict(allowed=True)
    if (obj.get("metadata") or {}).get("annotations") is None:
        patch = {"op": "add", "path": "/metadata/annotations", "value": {CREATOR_ANNOTATION: wanted}}
    else:
        patch = {"op": "add", "path": _CREATOR_PATH, "value": wanted}
    return Verdict(allowed=True, patch=(patch,))


def add_finalizer(request: Mapping[str, Any]) -> Verdict:
    """The finalizer webhook's answer: on CREATE, append ``FINALIZER`` to ``metadata.finalizers``.

    Others' finalizers are kept (the patch appends); one already there (a tenant's manifest
    may carry it) needs nothing. UPDATE and anything else pass untouched: the finalizer's
    life after creation is kopf's (it adds a missing one and removes it after the delete
    handler), and putting one back during a deletion would hold the resource forever.
    """
    if request.get("operation") != "CREATE":
        return Verdict(allowed=True)
    finalizers = ((request.get("object") or {}).get("metadata") or {}).get("finalizers")
    if isinstance(finalizers, list) and FINALIZER in finalizers:
        return Verdict(allowed=True)
    patch: dict[str, Any]
    if isinstance(finalizers, list) and finalizers:
        patch = {"op": "add", "path": "/metadata/finalizers/-", "value": FINALIZER}
    else:  # absent, null or empty: "add" sets the member (RFC 6902 replaces an existing one)
        patch = {"op": "add", "path": "/metadata/finalizers", "value": [FINALIZER]}
    return Verdict(allowed=True, patch=(patch,))


def review_response(uid: str, verdict: Verdict) -> dict[str, Any]:
    """The AdmissionReview (admission.k8s.io/v1) that carries ``verdict`` back to the apiserver."""
    response: dict[str, Any] = {"uid": uid, "allowed": verdict.allowed}
    if not verdict.allowed:
        response["status"] = {"code": verdict.code, "reason": verdict.reason, "message": verdict.message}
    if verdict.warnings:
        response["warnings"] = list(verdict.warnings)
    if verdict.patch:
        response["patchType"] = "JSONPatch"
        response["patch"] = base64.b64encode(json.dumps(list(verdict.patch)).encode()).decode()
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}
