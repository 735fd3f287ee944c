"""The admission webhooks' decisions: same checks as the reconcile, codes, creator, quotas, warnings,
and the finalizer webhook's JSONPatch."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from sundial.domain.admission import CREATOR_ANNOTATION, FINALIZER, add_finalizer, mutate, review_response, validate
from sundial.domain.rules import Limits
from sundial.domain.validation import Peers, check_spec
from sundial.errors import SpecInvalid

NOW = datetime(2026, 12, 1, tzinfo=UTC)
SPEC: dict[str, Any] = {"schedule": "0 9 * * *", "timeZone": "Asia/Tokyo", "task": {"query": "q"},
                        "maxBudgetPerRunUSD": 2.0}
OPERATOR = frozenset({"system:serviceaccount:sundial:sundial"})


def body(spec: dict[str, Any], creator: str | None = None, name: str = "s") -> dict[str, Any]:
    annotations = {CREATOR_ANNOTATION: creator} if creator is not None else {}
    return {"metadata": {"name": name, "namespace": "team-a", "annotations": annotations}, "spec": spec}


def request(operation: str, obj: dict[str, Any], old: dict[str, Any] | None = None,
            user: str = "alice") -> dict[str, Any]:
    return {"uid": "u1", "operation": operation, "namespace": "team-a", "name": obj["metadata"]["name"],
            "userInfo": {"username": user}, "object": obj, "oldObject": old}


def reconcile_message(spec: dict[str, Any]) -> str:
    with pytest.raises(SpecInvalid) as caught:
        check_spec(spec, body(spec)["metadata"], Peers(), Limits(), NOW)
    return caught.value.message


BAD = [
    pytest.param({"schedule": "*/5 * * * *"}, id="every-5-min"),
    pytest.param({"schedule": "0,45 9 * * *"}, id="45-min-gap"),
    pytest.param({"schedule": "0 25 * * *"}, id="hour-25"),
    pytest.param({"timeZone": "Asia/Tokio"}, id="tokio"),
    pytest.param({"maxBudgetPerRunUSD": 50}, id="budget-50"),
    pytest.param({"displayName": "x" * 256}, id="displayname-256"),
    pytest.param({"startAt": "2027-01-02T00:00:00Z", "endAt": "2027-01-01T00:00:00Z"}, id="end-before-start"),
    pytest.param({"schedule": "*/5 * * * *", "maxBudgetPerRunUSD": 50}, id="two-problems"),
]


@pytest.mark.parametrize("change", BAD)
def test_a_bad_spec_is_refused_422_with_the_reconciles_own_message(change: dict[str, Any]) -> None:
    spec = {**SPEC, **change}
    verdict = validate(request("CREATE", body(spec, "alice")), Peers(), Limits(), NOW, OPERATOR)
    assert not verdict.allowed and verdict.code == 422 and verdict.reason == "Invalid"
    assert verdict.message == reconcile_message(spec)


def test_every_problem_is_reported_at_once_numbered() -> None:
    message = reconcile_message({**SPEC, "schedule": "*/5 * * * *", "maxBudgetPerRunUSD": 50, "jitter": "x"})
    assert message.startswith("3 problems: (1) spec.schedule: ")
    assert ("; (2) spec.maxBudgetPerRunUSD: 50.0 is over the operator's cap of 10.0 (SCHEDULE_MAX_BUDGET_USD); "
            "(3) spec.jitter: ") in message


def test_every_parse_problem_is_reported_too() -> None:
    message = reconcile_message({**SPEC, "displayName": "x" * 256, "timeoutSeconds": 0})
    assert message == ("2 problems: (1) spec.displayName: 256 characters; the limit is 255; "
                       "(2) spec.timeoutSeconds: 0 is below the minimum of 1")


def test_a_good_spec_is_allowed() -> None:
    verdict = validate(request("CREATE", body(SPEC, "alice")), Peers(), Limits(), NOW, OPERATOR)
    assert verdict.allowed and verdict.warnings == ()


def test_over_the_user_quota_is_403_naming_count_and_limit_on_create_only() -> None:
    peers = Peers(creator=[("2026-01-01T00:00:00Z", "team-a/one"), ("2026-01-02T00:00:00Z", "team-b/two")])
    verdict = validate(request("CREATE", body(SPEC, "alice", "three")), peers, Limits(max_per_user=2), NOW, OPERATOR)
    assert (verdict.allowed, verdict.code, verdict.reason) == (False, 403, "Forbidden")
    assert verdict.message == "user alice has 3 schedules; the limit is 2 (SCHEDULE_MAX_PER_USER)"
    edited = body({**SPEC, "schedule": "0 10 * * *"}, "alice", "three")
    update = request("UPDATE", edited, body(SPEC, "alice", "three"))
    assert validate(update, peers, Limits(max_per_user=2), NOW, OPERATOR).allowed


def test_over_the_namespace_quota_is_403() -> None:
    peers = Peers(namespace=[("2026-01-01T00:00:00Z", "one")])
    verdict = validate(request("CREATE", body(SPEC, "alice", "two")), peers, Limits(max_per_namespace=1), NOW,
                       OPERATOR)
    assert verdict.code == 403 and verdict.message == (
        "namespace team-a has 2 schedules; the limit is 1 (SCHEDULE_MAX_PER_NAMESPACE)")


def test_an_invalid_spec_over_quota_is_422_and_names_both() -> None:
    peers = Peers(namespace=[("2026-01-01T00:00:00Z", "one")])
    spec = {**SPEC, "maxBudgetPerRunUSD": 50}
    verdict = validate(request("CREATE", body(spec, "alice", "two")), peers, Limits(max_per_namespace=1), NOW,
                       OPERATOR)
    assert verdict.code == 422 and verdict.message.startswith("2 problems: (1) spec.maxBudgetPerRunUSD")
    assert "(2) namespace team-a has 2 schedules" in verdict.message


def test_metadata_writes_to_an_invalid_schedule_go_through() -> None:
    bad = body({**SPEC, "maxBudgetPerRunUSD": 50}, "alice")
    finalized = {**bad, "metadata": {**bad["metadata"], "finalizers": ["sundial.dev/temporal-schedule"]}}
    assert validate(request("UPDATE", finalized, bad), Peers(), Limits(), NOW, OPERATOR).allowed
    deleting = {**bad, "metadata": {**bad["metadata"], "deletionTimestamp": "2026-12-01T00:00:00Z"}}
    assert validate(request("UPDATE", deleting, bad), Peers(), Limits(), NOW, OPERATOR).allowed


def test_an_invalid_edit_is_refused() -> None:
    verdict = validate(request("UPDATE", body({**SPEC, "schedule": "*/5 * * * *"}, "alice"), body(SPEC, "alice")),
                       Peers(), Limits(), NOW, OPERATOR)
    assert verdict.code == 422 and "runs every 5 min" in verdict.message


def test_a_user_cannot_set_the_creator_on_create_nor_change_it() -> None:
    forged = validate(request("CREATE", body(SPEC, "bob")), Peers(), Limits(), NOW, OPERATOR)
    assert (forged.allowed, forged.code) == (False, 403)
    assert 'sundial.dev/created-by"]: "bob" cannot be set by hand' in forged.message
    changed = validate(request("UPDATE", body(SPEC, "bob"), body(SPEC, "alice")), Peers(), Limits(), NOW, OPERATOR)
    assert (changed.allowed, changed.code) == (False, 403)
    assert 'cannot be changed from "alice" to "bob"' in changed.message
    removed = validate(request("UPDATE", body(SPEC), body(SPEC, "alice")), Peers(), Limits(), NOW, OPERATOR)
    assert not removed.allowed


def test_the_operator_may_write_the_creator() -> None:
    operator = "system:serviceaccount:sundial:sundial"
    verdict = validate(request("UPDATE", body(SPEC, "bob"), body(SPEC, "alice"), user=operator), Peers(),
                       Limits(), NOW, OPERATOR)
    assert verdict.allowed


def test_mutate_stamps_the_requesting_user_on_create() -> None:
    verdict = mutate(request("CREATE", body(SPEC)))
    assert verdict.patch == ({"op": "add", "path": "/metadata/annotations/sundial.dev~1created-by",
                              "value": "alice"},)
    bare = {"metadata": {"name": "s", "namespace": "team-a"}, "spec": SPEC}
    assert mutate(request("CREATE", bare)).patch == (
        {"op": "add", "path": "/metadata/annotations", "value": {CREATOR_ANNOTATION: "alice"}},)


def test_mutate_leaves_a_given_creator_for_the_validating_webhook_to_judge() -> None:
    assert mutate(request("CREATE", body(SPEC, "bob"))).patch == ()


def test_mutate_puts_back_a_creator_an_update_dropped() -> None:
    verdict = mutate(request("UPDATE", body(SPEC), body(SPEC, "alice"), user="bob"))
    assert verdict.patch[0]["value"] == "alice"
    assert mutate(request("UPDATE", body(SPEC), body(SPEC))).patch == ()


def test_the_dst_warning_names_the_next_date_it_runs_twice() -> None:
    spec = {**SPEC, "schedule": "30 1 * * *", "timeZone": "America/New_York"}
    verdict = validate(request("CREATE", body(spec, "alice")), Peers(), Limits(), NOW, OPERATOR)
    assert verdict.allowed
    assert verdict.warnings == ('spec.schedule: "30 1 * * *" in America/New_York runs twice at 01:30 on '
                                "2027-11-07: that wall-clock time repeats when daylight-saving time ends",)


def test_the_response_is_an_admission_review_with_status_warnings_and_patch() -> None:
    refused = validate(request("CREATE", body({**SPEC, "maxBudgetPerRunUSD": 50}, "alice")), Peers(), Limits(),
                       NOW, OPERATOR)
    answer = review_response("u1", refused)
    assert answer["apiVersion"] == "admission.k8s.io/v1" and answer["kind"] == "AdmissionReview"
    assert answer["response"]["uid"] == "u1" and answer["response"]["allowed"] is False
    assert answer["response"]["status"]["code"] == 422
    patched = review_response("u2", mutate(request("CREATE", body(SPEC))))["response"]
    assert patched["patchType"] == "JSONPatch"
    assert json.loads(base64.b64decode(patched["patch"]))[0]["value"] == "alice"


def with_finalizers(finalizers: Any) -> dict[str, Any]:
    obj = body(SPEC)
    obj["metadata"]["finalizers"] = finalizers
    return obj


def test_the_finalizer_webhook_adds_kopfs_finalizer_on_create() -> None:
    assert add_finalizer(request("CREATE", body(SPEC))).patch == (
        {"op": "add", "path": "/metadata/finalizers", "value": ["sundial.dev/temporal-schedule"]},)
    empty: list[str] | None
    for empty in (None, []):  # null or an empty list: set the member
        assert add_finalizer(request("CREATE", with_finalizers(empty))).patch == (
            {"op": "add", "path": "/metadata/finalizers", "value": [FINALIZER]},)


def test_the_finalizer_webhook_keeps_other_finalizers_and_adds_none_twice() -> None:
    assert add_finalizer(request("CREATE", with_finalizers(["example.com/keep"]))).patch == (
        {"op": "add", "path": "/metadata/finalizers/-", "value": FINALIZER},)
    for present in ([FINALIZER], ["example.com/keep", FINALIZER]):  # a tenant's manifest may carry it already
        verdict = add_finalizer(request("CREATE", with_finalizers(present)))
        assert verdict.allowed and verdict.patch == ()


def test_the_finalizer_webhook_never_touches_an_update_nor_refuses() -> None:
    for operation, old in (("UPDATE", body(SPEC)), ("DELETE", None), ("CONNECT", None)):
        verdict = add_finalizer(request(operation, body(SPEC), old))
        assert verdict == add_finalizer(request(operation, with_finalizers([]), old))
        assert verdict.allowed and verdict.patch == ()
    invalid = add_finalizer(request("CREATE", body({**SPEC, "schedule": "*/5 * * * *"})))
    assert invalid.allowed and invalid.patch  # judging the spec is the validating webhook's job


def test_the_finalizer_patch_applies_as_the_apiserver_applies_it() -> None:
    """RFC 6902 "add" applied by hand: the body the apiserver stores has every finalizer, ours once, last."""
    def apply(obj: dict[str, Any]) -> list[str]:
        answer = review_response("u1", add_finalizer(request("CREATE", obj)))["response"]
        if "patch" not in answer:
            return list(obj["metadata"]["finalizers"])
        assert answer["patchType"] == "JSONPatch"
        (op,) = json.loads(base64.b64decode(answer["patch"]))
        assert op["op"] == "add"
        meta = obj["metadata"]
        if op["path"] == "/metadata/finalizers":
            meta["finalizers"] = op["value"]
        else:
            assert op["path"] == "/metadata/finalizers/-"
            meta["finalizers"].append(op["value"])
        return list(meta["finalizers"])

    assert apply(body(SPEC)) == [FINALIZER]
    assert apply(with_finalizers(["a/b", "c/d"])) == ["a/b", "c/d", FINALIZER]
    assert apply(with_finalizers(["a/b", FINALIZER])) == ["a/b", FINALIZER]
