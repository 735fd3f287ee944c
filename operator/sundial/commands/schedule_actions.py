"""``sundial pause``, ``sundial resume`` and ``sundial trigger``: talk to Kubernetes, not Temporal.

The CLI needs only kubectl-like access (RBAC decides who may); the operator does the
Temporal side. Pause and resume edit ``spec.paused`` like ``kubectl patch`` would, so
GitOps users see the change as theirs to commit. Resume also sets the annotation
``sundial.dev/resume-requested`` (and ``sundial.dev/resume-reason``, the ``--reason``),
which clears an automatic pause (run failures or budget); trigger sets
``sundial.dev/trigger-requested``. The operator acts once per value.
``resume --probe`` sets ``sundial.dev/probe-requested`` instead: the operator starts one
probe run (the schedule's workflow and input, workflow ID ``probe-<scheduleId>-<token>``),
and lifts the automatic pause only if it succeeds; the command waits up to ``--timeout``
(default 600 s) and exits 1 with the probe's error if it failed.

Output: what happened on stdout; errors (exit code 1, or 2 for a bad argument) as one
line on stderr. Pausing a schedule that ``spec.paused`` pauses already changes nothing
and says since when and why (exit 0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Coroutine, Mapping
from datetime import UTC, datetime
from typing import Any

from kubernetes.client.exceptions import ApiException

from sundial.adapters.kube import (
    PROBE_ANNOTATION,
    RESUME_ANNOTATION,
    RESUME_REASON_ANNOTATION,
    TRIGGER_ANNOTATION,
    KubeGateway,
    ScheduleResourceNotFound,
    load_api_client,
)
from sundial.domain.conditions import PAUSED
from sundial.domain.status import condition, status_of

TIMEOUT, PROBE_TIMEOUT = 30.0, 600.0
#: Longest ``--reason``: it goes into an annotation, an Event and a condition message.
MAX_REASON_CHARS = 1000


class CommandError(Exception):
    """The command did not do what was asked: one line on stderr, exit ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pause = subparsers.add_parser("pause", help="pause a schedule (sets spec.paused)")
    _common(pause)
    pause.add_argument("--reason", required=True, help="note written to Temporal and the Paused condition")
    pause.set_defaults(func=lambda args: _sync(_pause(args)))

    resume = subparsers.add_parser("resume", help="resume a schedule, clearing any automatic pause")
    _common(resume)
    resume.add_argument("--reason", default="", help="why (recorded in the Event and the Paused condition)")
    resume.add_argument("--probe", action="store_true",
                        help="start one probe run first (same workflow and input) and lift the automatic pause "
                             f"only if it succeeds; --timeout then bounds the wait for it (default {PROBE_TIMEOUT:g}s)")
    resume.set_defaults(func=lambda args: _sync(_resume(args)))

    trigger = subparsers.add_parser("trigger", help="start one run now")
    _common(trigger)
    trigger.add_argument("--no-wait", action="store_true", help="don't wait for the operator to start it")
    trigger.set_defaults(func=lambda args: _sync(_trigger(args)))


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the Schedule's name")
    parser.add_argument("-n", "--namespace", help="its namespace (default: the kubeconfig context's)")
    parser.add_argument("--timeout", type=float, help=f"seconds to wait for the operator (default {TIMEOUT:g})")


def current_namespace() -> str:
    """The kubeconfig context's namespace, like kubectl; ``default`` when it has none."""
    from kubernetes import config

    try:
        _, active = config.list_kube_config_contexts()  # type: ignore[no-untyped-call]
    except (config.ConfigException, FileNotFoundError):
        return "default"
    namespace: str = (active or {}).get("context", {}).get("namespace") or "default"
    return namespace


def _sync(coro: Coroutine[Any, Any, int]) -> int:
    """Run a command; every error is one line on stderr (exit codes: 0 ok, 1 failed, 2 bad argument)."""
    try:
        code: int = asyncio.run(coro)
    except ScheduleResourceNotFound as exc:
        return _fail(str(exc))
    except CommandError as exc:
        return _fail(str(exc), exc.code)
    except ApiException as exc:  # RBAC, a refused patch: the API server's own words, not a traceback
        return _fail(f"Kubernetes API: {exc.status} {exc.reason}: {_api_message(exc)}")
    return code


def _fail(message: str, code: int = 1) -> int:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return code


def _api_message(exc: ApiException) -> str:
    try:
        return str(json.loads(exc.body or "{}").get("message") or "")
    except ValueError:
        return str(exc.body or "")


def request_token() -> str:
    """A fresh annotation value: the request's time, unique per call."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def checked_reason(reason: str) -> str:
    """``--reason`` on one line, bounded (CommandError, exit 2, naming the flag and the limit)."""
    line = " ".join(reason.split())
    if len(line) > MAX_REASON_CHARS:
        raise CommandError(f"--reason is {len(line)} characters long; the limit is {MAX_REASON_CHARS}", 2)
    return line


def already_paused(body: Mapping[str, Any]) -> str | None:
    """``since …: reason`` when ``spec.paused`` pauses the schedule already, else ``None``."""
    spec = body.get("spec") or {}
    if not spec.get("paused"):
        return None
    paused = condition(status_of(body), PAUSED) or {}
    since = (f"since {paused.get('lastTransitionTime')}" if paused.get("status") == "True"
             and paused.get("lastTransitionTime") else "(not applied by the operator yet)")
    return f"{since}: {spec.get('pauseReason') or 'no reason given'}"


async def _pause(args: argparse.Namespace) -> int:
    namespace = args.namespace or current_namespace()
    reason = checked_reason(args.reason)
    kube = KubeGateway(load_api_client())
    already = already_paused(await kube.get_schedule(namespace, args.name))
    if already is not None:
        print(f"schedule {namespace}/{args.name} already paused {already}")
        return 0
    await kube.patch_schedule(namespace, args.name, {"spec": {"paused": True, "pauseReason": reason}})
    print(f"schedule {namespace}/{args.name} paused: {reason}")
    return 0


async def _resume(args: argparse.Namespace) -> int:
    namespace = args.namespace or current_namespace()
    reason = checked_reason(args.reason)
    kube = KubeGateway(load_api_client())
    if args.probe:
        return await _probe(kube, namespace, args.name, reason, PROBE_TIMEOUT if args.timeout is None else args.timeout)
    args.timeout = TIMEOUT if args.timeout is None else args.timeout
    token = request_token()
    await kube.patch_schedule(namespace, args.name, {
        "metadata": {"annotations": {RESUME_ANNOTATION: token, RESUME_REASON_ANNOTATION: reason}}})
    # the spec after the acknowledgement: the reconcile of the spec change then sees the reason
    acked = await _wait_for_ack(kube, namespace, args.name, "resume", token, args.timeout)
    await kube.patch_schedule(namespace, args.name, {"spec": {"paused": False, "pauseReason": ""}})
    if not acked:
        raise CommandError(f"schedule {namespace}/{args.name} resume requested; the operator has not confirmed "
                           f"within {args.timeout:g}s")
    print(f"schedule {namespace}/{args.name} resumed" + (f": {reason}" if reason else ""))
    return 0


async def _probe(kube: KubeGateway, namespace: str, name: str, reason: str, wait_seconds: float) -> int:
    """``resume --probe``: the operator runs the probe; the pause is lifted only if it succeeds."""
    token = request_token()
    await kube.patch_schedule(namespace, name, {
        "metadata": {"annotations": {PROBE_ANNOTATION: token, RESUME_REASON_ANNOTATION: reason}}})
    if not await _wait_for_ack(kube, namespace, name, "probe", token, wait_seconds):
        requests = status_of(await kube.get_schedule(namespace, name)).get("requests") or {}
        run = requests.get("probeRun") or f"of {namespace}/{name}"
        raise CommandError(f"probe run {run} has not finished within {wait_seconds:g}s; the schedule stays paused "
                           "until it succeeds (the operator lifts the pause then)")
    body = await kube.get_schedule(namespace, name)
    requests = status_of(body).get("requests") or {}
    result, run = str(requests.get("probeResult") or ""), requests.get("probeRun") or f"of {namespace}/{name}"
    if result != "succeeded":
        raise CommandError(f"probe run {run} {result}; schedule {namespace}/{name} stays paused")
    if (body.get("spec") or {}).get("paused"):
        await kube.patch_schedule(namespace, name, {"spec": {"paused": False, "pauseReason": ""}})
    print(f"schedule {namespace}/{name} resumed: probe run {run} succeeded" + (f"; {reason}" if reason else ""))
    return 0


async def _trigger(args: argparse.Namespace) -> int:
    namespace = args.namespace or current_namespace()
    kube = KubeGateway(load_api_client())
    token = request_token()
    await kube.patch_schedule(namespace, args.name, {"metadata": {"annotations": {TRIGGER_ANNOTATION: token}}})
    args.timeout = TIMEOUT if args.timeout is None else args.timeout
    if args.no_wait:
        print(f"run of {namespace}/{args.name} requested")
        return 0
    if not await _wait_for_ack(kube, namespace, args.name, "trigger", token, args.timeout):
        raise CommandError(f"run of {namespace}/{args.name} requested; the operator has not confirmed "
                           f"within {args.timeout:g}s")
    body = await kube.get_schedule(namespace, args.name)
    outcome = (status_of(body).get("requests") or {}).get("triggerResult", "started")
    if outcome != "started":
        raise CommandError(f"run of {namespace}/{args.name}: {outcome}")
    print(f"run of {namespace}/{args.name}: {outcome}")
    return 0


async def _wait_for_ack(kube: KubeGateway, namespace: str, name: str, key: str, token: str,
                        wait_seconds: float) -> bool:
    """Wait until the operator wrote ``status.requests.<key>`` = token."""
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        body = await kube.get_schedule(namespace, name)
        if (status_of(body).get("requests") or {}).get(key) == token:
            return True
        await asyncio.sleep(0.3)
    return False
