"""``sundial import``'s reading of a real Temporal schedule: the crons and intervals it writes back compile
to the very calendars and intervals Temporal made of the original (a differential test against the dev server)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleRange,
    ScheduleSpec,
)

from sundial.adapters.temporal import TemporalGateway
from sundial.domain.adoption import NotExpressible, spec_from_foreign
from sundial.domain.cron import Interval
from sundial.domain.models import ScheduleSpec as ModelSpec
from sundial.domain.schedule_rules import spec_whens

CRONS = ["* * * * *", "0 9 * * 1-5", "*/5 9-17 * * 1-5", "15,45 */6 1,15 * *", "0 0 1 1 *", "30 2 * 3-10/2 0,6",
         "@hourly", "@weekly", "0 0 29 2 *"]
_ids = itertools.count()


async def _create(client: Client, spec: ScheduleSpec) -> str:
    schedule_id = f"import-mapping-{next(_ids)}-{id(spec)}"
    await client.create_schedule(schedule_id, Schedule(
        action=ScheduleActionStartWorkflow("W", {"a": 1}, id=schedule_id, task_queue="q",
                                           run_timeout=timedelta(minutes=5)), spec=spec))
    return schedule_id


@pytest.mark.parametrize("cron", CRONS)
async def test_the_imported_cron_compiles_to_the_same_calendar(gateway: TemporalGateway, temporal_client: Client,
                                                              cron: str) -> None:
    created = [await _create(temporal_client, ScheduleSpec(cron_expressions=[cron], time_zone_name="Asia/Tokyo"))]
    try:
        foreign = await gateway.describe_foreign(created[0])
        spec, _ = spec_from_foreign(foreign)
        created.append(await _create(temporal_client, ScheduleSpec(cron_expressions=[spec["schedule"]],
                                                                   time_zone_name=spec["timeZone"])))
        assert (await gateway.describe_foreign(created[1])).calendars == foreign.calendars, spec["schedule"]
        assert spec["timeZone"] == "Asia/Tokyo" and spec["workflow"]["args"] == [{"a": 1}]
        assert spec["timeoutSeconds"] == 300
    finally:
        for schedule_id in created:
            await temporal_client.get_schedule_handle(schedule_id).delete()


async def test_intervals_and_several_calendars_are_imported_as_spec_schedules(
        gateway: TemporalGateway, temporal_client: Client) -> None:
    """What Temporal shows for two calendars and an interval with an offset comes back as the same spec."""
    original = ScheduleSpec(cron_expressions=["0 9 * * 1-5", "0 12 * * 6,0"], intervals=[ScheduleIntervalSpec(
        every=timedelta(minutes=90), offset=timedelta(minutes=15))], time_zone_name="Europe/Paris")
    created = [await _create(temporal_client, original)]
    try:
        foreign = await gateway.describe_foreign(created[0])
        spec, _ = spec_from_foreign(foreign)
        assert spec["schedules"] == ["0 9 * * 1-5", "0 12 * * 6,0", "@every 1h30m/15m"]  # ranges as written
        whens = spec_whens(ModelSpec.from_body(spec))
        created.append(await _create(temporal_client, ScheduleSpec(
            cron_expressions=[w for w in spec["schedules"] if not w.startswith("@every")],
            intervals=[ScheduleIntervalSpec(every=w.every, offset=w.offset) for w in whens if isinstance(w, Interval)],
            time_zone_name=spec["timeZone"])))
        again = await gateway.describe_foreign(created[1])
        assert (again.calendars, again.intervals) == (foreign.calendars, foreign.intervals)
        assert foreign.intervals == ((timedelta(minutes=90), timedelta(minutes=15)),)
    finally:
        for schedule_id in created:
            await temporal_client.get_schedule_handle(schedule_id).delete()


async def test_exclusions_are_still_refused_naming_them(gateway: TemporalGateway, temporal_client: Client) -> None:
    schedule_id = await _create(temporal_client, ScheduleSpec(
        intervals=[ScheduleIntervalSpec(every=timedelta(minutes=90))],
        skip=[ScheduleCalendarSpec(hour=[ScheduleRange(12)], minute=[ScheduleRange(0, 59)])]))
    try:
        with pytest.raises(NotExpressible, match=r"1 exclusion calendar\(s\) \(skip\)"):
            spec_from_foreign(await gateway.describe_foreign(schedule_id))
    finally:
        await temporal_client.get_schedule_handle(schedule_id).delete()
