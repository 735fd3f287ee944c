"""``sundial pause``, ``sundial resume`` and ``sundial trigger``: talk to Kubernetes, not Temporal.

The CLI needs only kubectl-like access (RBAC decides who may); the operator does the
Temporal side. Pause and resume edit ``spec.paused`` like ``kubectl patch`` would, so
GitOps users see the change as theirs to commit. Resume also sets the annotation
``sundial.dev/resume-requested``, which clears an automatic pause (run failures or
budget); trigger sets ``sundial.dev/trigger-requested``. The operator acts once per value.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from sundial.adapters.kube import (
    RESUME_ANNOTATION,
    TRIGGER_ANNOTATION,
    KubeGateway,
    ScheduleResourceNotFound,
    load_api_client,
)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pause = subparsers.add_parser("pause", help="pause a schedule (sets spec.paused)")
    _common(pause)
    pause.add_argument("--reason", required=True, help="note written to Temporal and the Paused condition")
    pause.set_defaults(func=lambda args: _sync(_pause(args)))

    resume = subparsers.add_parser("resume", help="resume a schedule, clearing any automatic pause")
    _common(resume)
    resume.add_argument("--reason", default="", help="why (recorded in the Event)")
    resume.set_defaults(func=lambda args: _sync(_resume(args)))

    trigger = subparsers.add_parser("trigger", help="start one run now")
    _common(trigger)
    trigger.add_argument("--no-wait", action="store_true", help="don't wait for the operator to start it")
    trigger.set_defaults(func=lambda args: _sync(_trigger(args)))


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the Schedule's name")
    parser.add_argument("-n", "--namespace", help="its namespace (default: the kubeconfig context's)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the operator")


def current_namespace() -> str:
    """The kubeconfig context's namespace, like kubectl; ``default`` when it has none."""
    from kubernetes import config

    try:
        _, active = config.list_kube_config_contexts()  # type: ignore[no-untyped-call]
    except (config.ConfigException, FileNotFoundError):
        return "default"
    namespace: str = (active or {}).get("context", {}).get("namespace") or "default"
    return namespace


def _sync(coro: Any) -> int:
    try:
        code: int = asyncio.run(coro)
    except ScheduleResourceNotFound as exc:
        print(f"error: {exc}")
        return 1
    return code


def request_token() -> str:
    """A fresh annotation value: the request's time, unique per call."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def _pause(args: argparse.Namespace) -> int:
    namespace = args.namespace or current_namespace()
    kube = KubeGateway(load_api_client())
    await kube.patch_schedule(namespace, args.name, {"spec": {"paused": True, "pauseReason": args.reason}})
    print(f"schedule {namespace}/{args.name} paused: {args.reason}")
    return 0


async def _resume(args: argparse.Namespace) -> int:
    namespace = args.namespace or current_namespace()
    kube = KubeGateway(load_api_client())
    token = request_token()
    body = await kube.patch_schedule(namespace, args.name, {
        "metadata": {"annotations": {RESUME_ANNOTATION: token}},
        "spec": {"paused": False, "pauseReason": ""},
    })
    del body
    acked = await _wait_for_ack(kube, namespace, args.name, "resume", token, args.timeout)
    print(f"schedule {namespace}/{args.name} resumed" + ("" if acked else " (the operator has not confirmed yet)"))
    return 0 if acked else 1


async def _trigger(args: argparse.Namespace) -> int:
    namespace = args.namespace or current_namespace()
    kube = KubeGateway(load_api_client())
    token = request_token()
    await kube.patch_schedule(namespace, args.name, {"metadata": {"annotations": {TRIGGER_ANNOTATION: token}}})
    if args.no_wait:
        print(f"run of {namespace}/{args.name} requested")
        return 0
    acked = await _wait_for_ack(kube, namespace, args.name, "trigger", token, args.timeout)
    if not acked:
        print(f"run of {namespace}/{args.name} requested; the operator has not confirmed within {args.timeout:g}s")
        return 1
    body = await kube.get_schedule(namespace, args.name)
    outcome = ((body.get("status") or {}).get("requests") or {}).get("triggerResult", "started")
    print(f"run of {namespace}/{args.name}: {outcome}")
    return 0 if outcome == "started" else 1


async def _wait_for_ack(kube: KubeGateway, namespace: str, name: str, key: str, token: str,
                        wait_seconds: float) -> bool:
    """Wait until the operator wrote ``status.requests.<key>`` = token."""
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        body = await kube.get_schedule(namespace, name)
        if ((body.get("status") or {}).get("requests") or {}).get(key) == token:
            return True
        await asyncio.sleep(0.3)
    return False
