"""``sundial dev``: the whole stack on one machine, stopped cleanly by Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from sundial.devstack.build import BuildError
from sundial.devstack.processes import StackError
from sundial.devstack.stack import DevStack


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "dev",
        help="run Temporal, a local Kubernetes control plane, the CRDs, the operator and the worker",
        description="Run Temporal, a local Kubernetes control plane, the CRDs, the operator (with its admission "
        "webhooks registered on the local control plane) and the reference worker. The SUNDIAL_* and SCHEDULE_* "
        "settings of this environment are passed to the operator it starts, e.g. "
        "`SCHEDULE_MAX_PER_USER=2 make dev` tries the per-user quota.",
    )
    parser.add_argument("--kubeconfig", type=Path, help="use this cluster instead of a local control plane")
    parser.add_argument("--context", help="use this kubeconfig context instead of a local control plane")
    parser.add_argument("--no-ui", action="store_true", help="start the Temporal dev server headless")
    parser.set_defaults(func=_run)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _banner(stack: DevStack, took: float) -> str:
    assert stack.temporal is not None
    kubectl = f"kubectl {' '.join(stack.kube_args())}".strip()
    lines = [
        f"Sundial dev stack is up ({took:.1f}s)",
        f"  kubeconfig:       {stack.kubeconfig or '(your current context)'}",
        f"  Temporal address: {stack.temporal.address}",
    ]
    if stack.temporal.ui_url:
        lines.append(f"  Temporal UI:      {stack.temporal.ui_url}")
    if stack.operator is not None:
        lines.append(f"  operator metrics: http://127.0.0.1:{stack.operator.metrics_port}/metrics")
    if stack.webhook_env:
        lines.append(f"  webhooks:         https://127.0.0.1:{stack.webhook_env['SUNDIAL_WEBHOOK_PORT']} (validate, "
                     "mutate); a namespace labelled sundial.dev/webhook=off is left out")
    lines += [f"  logs:             {stack.workdir}", ""]
    lines += [f"  note: {note}" for note in stack.notes]
    lines += [
        "Try:",
        f"  {kubectl} get ns",
        f"  temporal schedule list --address {stack.temporal.address}",
    ]
    if any(child.name == "operator" for child in stack.children):
        lines += [
            f"  {kubectl} apply -f examples/daily-ai-news.yaml && {kubectl} get sched -A -w",
        ]
    else:
        lines.append("  (the operator is not built yet: Schedules are stored but not reconciled)")
    lines.append("Ctrl-C stops everything.")
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    for signum in (signal.SIGINT, signal.SIGTERM):  # SIGINT too: a background shell job inherits it ignored
        signal.signal(signum, _raise_interrupt)
    stack = DevStack(kubeconfig=args.kubeconfig, context=args.context, ui=not args.no_ui)
    started = time.monotonic()
    try:
        stack.start()
        print(_banner(stack, time.monotonic() - started), flush=True)
        while True:
            stack.check_alive()
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
        return 0
    except (StackError, BuildError) as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        stack.stop()
