"""``sundial worker``: the reference worker as a long-running process.

It connects to Temporal with the operator's settings (``SUNDIAL_TEMPORAL_*``: address, API key, TLS files;
``--address`` and friends default to the same variables), runs
``ScheduledTaskWorkflow`` with the chosen agent on one task queue, says at start which
agent runs (loudly when it is the offline demo, so nobody mistakes echoes for answers),
and stops cleanly on Ctrl-C or SIGTERM: no new tasks are taken, running agents get
``--graceful-shutdown-seconds`` to finish, and the exit code is 0.

Exit codes: 0 stopped cleanly, 1 Temporal unreachable or the worker failed,
2 a bad ``--agent`` or setting.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from datetime import timedelta
from typing import Any, NoReturn

from sundial.domain.restricted import parse_allowed_operations
from sundial.errors import SettingsError
from sundial.settings import Settings, load_settings, read_api_key
from sundial.worker.agents import DEMO_AGENT_REF, Agent, AgentLoadError, is_offline_demo, load_agent
from sundial.worker.runner import DEFAULT_GRACEFUL_SHUTDOWN, DEFAULT_MAX_CONCURRENT_ACTIVITIES, run_worker

log = logging.getLogger("sundial.worker")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    env = os.environ.get
    parser = subparsers.add_parser(
        "worker",
        help="run the reference worker (ScheduledTaskWorkflow with a pluggable agent)",
        description="Run ScheduledTaskWorkflow and its agent activity on one Temporal task queue. "
                    "The default agent is an OFFLINE DEMO that echoes the query and calls no model.",
    )
    parser.add_argument("--address", default=env("SUNDIAL_TEMPORAL_ADDRESS", "localhost:7233"),
                        help="Temporal host:port (env SUNDIAL_TEMPORAL_ADDRESS; default %(default)s)")
    parser.add_argument("--namespace", default=env("SUNDIAL_TEMPORAL_NAMESPACE", "default"),
                        help="Temporal namespace (env SUNDIAL_TEMPORAL_NAMESPACE; default %(default)s)")
    parser.add_argument("--task-queue", default=env("SUNDIAL_DEFAULT_TASK_QUEUE", "sundial-tasks"),
                        help="task queue to poll (env SUNDIAL_DEFAULT_TASK_QUEUE; default %(default)s)")
    parser.add_argument("--agent", default=env("SUNDIAL_WORKER_AGENT", DEMO_AGENT_REF),
                        help="the agent, as package.module:function (env SUNDIAL_WORKER_AGENT; "
                             "default the offline demo %(default)s)")
    parser.add_argument("--max-concurrent", type=_positive_int, default=DEFAULT_MAX_CONCURRENT_ACTIVITIES,
                        help="agent runs executed at once (default %(default)s)")
    parser.add_argument("--graceful-shutdown-seconds", type=float,
                        default=DEFAULT_GRACEFUL_SHUTDOWN.total_seconds(),
                        help="on stop, how long running agents may finish (default %(default)s)")
    parser.add_argument("--log-level", default=env("SUNDIAL_LOG_LEVEL", "INFO"),
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], type=str.upper)
    parser.set_defaults(func=run_command)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def run_command(args: argparse.Namespace) -> int:
    """Entry point of ``sundial worker``; returns the exit code."""
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    try:
        agent = load_agent(args.agent)
        settings = load_settings()
        connect_options = temporal_connect_options(settings)
        allowed = allowed_operations(settings)
    except (AgentLoadError, SettingsError, OSError) as exc:
        log.error("sundial worker: %s", exc)
        return 2
    exit_now(asyncio.run(_serve(args, agent, connect_options, allowed)))


def exit_now(code: int) -> NoReturn:
    """Leave without interpreter finalization, after flushing logs and output.

    The Temporal SDK's Rust threads can outlive the event loop, and CPython then
    aborts while finalizing ("PyGILState_Release: thread state ... must be current",
    exit -6; temporalio/sdk-python#300). Everything is shut down by now, so skip it.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def allowed_operations(settings: Settings) -> tuple[str, ...]:
    """The restricted operations this worker allows, any spelling; SettingsError names an unknown one."""
    try:
        return parse_allowed_operations(",".join(settings.worker_allowed_operations))
    except ValueError as exc:
        raise SettingsError(f"SUNDIAL_WORKER_ALLOWED_OPERATIONS: {exc}") from None


def temporal_connect_options(settings: Settings) -> dict[str, Any]:
    """``Client.connect`` keyword arguments for the API key and TLS files of the settings."""
    from temporalio.service import TLSConfig

    options: dict[str, Any] = {}
    api_key = read_api_key(settings)
    if api_key:
        options["api_key"] = api_key
        options["tls"] = True
    files = (settings.temporal_tls_ca, settings.temporal_tls_cert, settings.temporal_tls_key)
    if any(files):
        ca, cert, key = (path.read_bytes() if path else None for path in files)
        options["tls"] = TLSConfig(server_root_ca_cert=ca, client_cert=cert, client_private_key=key)
    return options


def describe_agent(ref: str) -> str:
    if is_offline_demo(ref):
        return (f"agent {ref}: the OFFLINE DEMO agent, it echoes the query and calls no model (cost $0); "
                "pass --agent package.module:function to run a real one")
    return f"agent {ref}"


async def _serve(args: argparse.Namespace, agent: Agent, connect_options: dict[str, Any],
                 allowed_operations: tuple[str, ...] = ()) -> int:
    from temporalio.client import Client

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, _request_stop, stop, signum)
    try:
        client = await Client.connect(args.address, namespace=args.namespace, **connect_options)
    except RuntimeError as exc:
        log.error("sundial worker: cannot reach Temporal at %s: %s", args.address, exc)
        return 1
    log.info("sundial worker: %s; task queue %s, Temporal %s namespace %s, at most %d agent runs at once; "
             "restricted operations allowed: %s", describe_agent(args.agent), args.task_queue, args.address,
             args.namespace, args.max_concurrent, ", ".join(allowed_operations) or "none")
    try:
        await run_worker(client, args.task_queue, agent, stop,
                         max_concurrent_activities=args.max_concurrent,
                         graceful_shutdown=timedelta(seconds=args.graceful_shutdown_seconds),
                         allowed_operations=allowed_operations)
    except Exception as exc:  # one clear line instead of a traceback
        log.error("sundial worker: the worker failed: %s", exc)
        return 1
    log.info("sundial worker: stopped cleanly")
    return 0


def _request_stop(stop: asyncio.Event, signum: int) -> None:
    if stop.is_set():
        return
    log.info("sundial worker: %s received, finishing running tasks", signal.Signals(signum).name)
    stop.set()
