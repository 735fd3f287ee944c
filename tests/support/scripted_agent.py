"""A test agent whose outcome is written in its query, so a test says what a run does.

The query may contain ``key=value`` words anywhere; everything else is ignored:

    outcome=success|fail|crash|timeout   default success; crash raises a plain RuntimeError,
                                          timeout sleeps past the run's agent deadline
    cost=0.25  tokens=1200                reported (on success and on fail); default 0
    sleep=2.5                             seconds to run before finishing (a long run)
    model=gpt-4o  provider=openai         reported model; default scripted / sundial-tests
    retryable=false                       an ``outcome=fail`` that asks for no retry
    fixed_by=/some/file                   an ``outcome=fail`` that succeeds once this file exists: a cause
                                          fixed outside the schedule (``sundial resume --probe`` tests)

Run it in a worker process with
``PYTHONPATH=<repo> sundial worker --agent tests.support.scripted_agent:scripted_agent``.
"""

from __future__ import annotations

import asyncio
import os
import re
from typing import Final

from sundial.worker.agents import AgentFailure, AgentRequest, AgentResult

DEFAULT_MODEL: Final = "scripted"
DEFAULT_PROVIDER: Final = "sundial-tests"
_WORD: Final = re.compile(r"(?<!\S)([a-z_]+)=(\S+)")


def script_of(query: str) -> dict[str, str]:
    """The ``key=value`` words of a query (later words win)."""
    return {key: value for key, value in _WORD.findall(query)}


def scripted_query(text: str = "scripted task", **script: object) -> str:
    """A query for ``scripted_agent``: ``scripted_query(outcome="fail", cost=0.25)``."""
    words = " ".join(f"{key}={value}" for key, value in script.items())
    return f"{text} {words}".strip()


async def scripted_agent(request: AgentRequest) -> AgentResult:
    """Do what the query says: succeed, fail with a cost, crash, or outlast the deadline."""
    script = script_of(request.query)
    outcome = script.get("outcome", "success")
    if outcome == "fail" and "fixed_by" in script and await asyncio.to_thread(os.path.exists, script["fixed_by"]):
        outcome = "success"
    cost = float(script.get("cost", "0"))
    tokens = int(script.get("tokens", "0"))
    model = script.get("model", DEFAULT_MODEL)
    provider = script.get("provider", DEFAULT_PROVIDER)
    sleep = float(script.get("sleep", "0"))
    if outcome == "timeout":
        sleep = max(sleep, request.timeout_seconds + 60)
    if sleep > 0:
        await asyncio.sleep(sleep)
    if outcome == "fail":
        raise AgentFailure(f"scripted failure: {request.query}", cost, tokens, model, provider,
                           retryable=script.get("retryable", "true") != "false")
    if outcome == "crash":
        raise RuntimeError("scripted crash")
    return AgentResult(
        result=f"scripted answer to: {request.query}",
        model_used=model,
        provider=provider,
        total_tokens=tokens,
        total_cost_usd=cost,
    )
