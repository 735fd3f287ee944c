"""The liveness probe turns red when a kopf watcher task has died (issue 10, item 8)."""

from __future__ import annotations

import asyncio
import json
import sys

import kopf
import pytest

from sundial.controller.liveness import RECURSION_LIMIT, WatcherDied, WatcherWatch, allow_deep_json


async def _watch_forever() -> None:
    await asyncio.Event().wait()


async def _die_decoding() -> None:
    raise RecursionError("maximum recursion depth exceeded while decoding a JSON object from a unicode string")


def test_a_dead_watcher_fails_the_probe_and_a_live_one_passes() -> None:
    async def scenario() -> None:
        watch = WatcherWatch()
        alive = asyncio.create_task(_watch_forever(), name="watcher for schedules.v1alpha1.sundial.dev@None")
        await asyncio.sleep(0)
        assert watch.check() == 1
        alive.cancel()
        dying = asyncio.create_task(_die_decoding(), name="watcher for schedules.v1alpha1.sundial.dev@None")
        assert watch.check() >= 1  # kopf re-created the watcher under the same name: fine
        await asyncio.gather(dying, return_exceptions=True)
        with pytest.raises(WatcherDied, match="RecursionError"):
            watch.check()

    asyncio.run(scenario())


def test_other_tasks_ending_do_not_matter() -> None:
    async def scenario() -> None:
        watch = WatcherWatch()
        task = asyncio.create_task(_die_decoding(), name="run accounting")
        await asyncio.gather(task, return_exceptions=True)
        assert watch.check() == 0

    asyncio.run(scenario())


def test_the_operator_decodes_any_depth_the_apiserver_stores() -> None:
    text = '{"k":' * 5000 + "[" * 5000 + "1" + "]" * 5000 + "}" * 5000  # 10,000 levels: the apiserver's limit
    before = sys.getrecursionlimit()
    try:
        allow_deep_json()
        assert sys.getrecursionlimit() >= RECURSION_LIMIT
        json.loads(text)
    finally:
        sys.setrecursionlimit(before)


def test_kopf_answers_the_health_request_with_an_error_when_the_probe_finds_a_dead_watcher() -> None:
    """kopf's /healthz runs the probe handlers; the registered one fails the request at once."""
    from kopf._core.actions import lifecycles
    from kopf._core.engines.activities import ActivityError, run_activity
    from kopf._core.intents import causes, registries

    import sundial.controller.handlers  # noqa: F401 - registers the probe with kopf's default registry

    async def scenario() -> None:
        watch = WatcherWatch()
        dying = asyncio.create_task(_die_decoding(), name="watcher for schedules.v1alpha1.sundial.dev@None")
        watch.check({dying})
        await asyncio.gather(dying, return_exceptions=True)
        memo = kopf.Memo(watcher_watch=watch)
        with pytest.raises(ActivityError):
            await asyncio.wait_for(run_activity(
                lifecycle=lifecycles.all_at_once, registry=registries.get_default_registry(),
                settings=kopf.OperatorSettings(), activity=causes.Activity.PROBE, indices={},
                memo=memo), timeout=5)  # type: ignore[arg-type]

    asyncio.run(scenario())
