"""Working-day SLAs through the API on the real stack: a step is due at the close of its Nth
working day; a year the calendar does not know still files, and says so (step note, console,
metric, log); HOLIDAYS_FILE's days are skipped by a broker started with it and a bad file stops
the start; an escalation gives the new approver working days too; a decision records working
time."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.app import create_app
from broker.calendar.days import WorkingCalendar, YearRules
from broker.calendar.deadlines import CHINA, OFFICE_CLOSES, china_day
from broker.calendar.holidays_file import HolidaysFileError
from broker.calendar.installed import current, install
from broker.requests import sla
from core.clock import utcnow
from core.models.requests import Decision, RequestStep
from testing.apps import BASE_URL, LINKS, broker_with
from testing.clients import Headers, decide, file
from testing.people import new_person, sign_in
from testing.prometheus import series_value
from testing.settings import Settings
from testing.workloads import request_body

pytestmark = pytest.mark.integration
DATASET = "gz-gaj-household-migration"  # conditional, same level: one step of 3 working days


def working_days_after(calendar: WorkingCalendar, start: datetime, due: datetime) -> int:
    first, last = china_day(start), china_day(due)
    days = (first + timedelta(days=n) for n in range(1, (last - first).days + 1))
    return sum(calendar.is_working_day(day) for day in days)


def assert_due_on_working_day(
    calendar: WorkingCalendar, step: dict[str, Any], started: datetime
) -> None:
    due = datetime.fromisoformat(step["due_at"])
    local = due.astimezone(CHINA)
    assert local.time() == OFFICE_CLOSES, step
    assert calendar.is_working_day(local.date()), step
    assert working_days_after(calendar, started, due) == step["sla_working_days"], step


@pytest.fixture
def calendar_knowing_nothing() -> Iterator[WorkingCalendar]:
    """A calendar without a single year: as if the package were years out of date."""
    calendar = WorkingCalendar(years={})
    restore = install(calendar)
    yield calendar
    restore()


async def test_a_step_is_due_at_the_close_of_its_nth_working_day(
    client: httpx.AsyncClient, as_org: Headers
) -> None:
    response = await file(client, await as_org("gz-rsj"), request_body(DATASET, ["id_number"]))
    assert response.status_code == 201, response.text
    (step,) = response.json()["route"]
    assert step["sla_working_days"] == 3
    assert step["sla_seconds"] == 3 * 86400  # the nominal length v1 clients read
    started = datetime.fromisoformat(step["started_at"])
    assert_due_on_working_day(current(), step, started)
    # Only in the last days of the calendar's last year does a step cross into an unknown one.
    due_year = datetime.fromisoformat(step["due_at"]).astimezone(CHINA).year
    assert (step["calendar_note"] is None) == current().knows(due_year)
    metrics = (await client.get("/metrics")).text
    assert series_value(metrics, "cdo_calendar_last_known_year") == current().last_known_year


async def test_a_year_nobody_knows_still_files_and_is_called_out(
    app: FastAPI,
    client: httpx.AsyncClient,
    as_org: Headers,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    calendar_knowing_nothing: WorkingCalendar,
    caplog: pytest.LogCaptureFixture,
) -> None:
    before = (await client.get("/metrics")).text
    with caplog.at_level(logging.WARNING, logger="broker.requests.step_clock"):
        response = await file(client, await as_org("gz-rsj"), request_body(DATASET, ["name"]))
    assert response.status_code == 201, response.text
    (step,) = response.json()["route"]
    year = datetime.fromisoformat(step["due_at"]).astimezone(CHINA).year
    assert f"{year}年节假日安排尚未收录" in step["calendar_note"]
    assert "counts weekends only" in step["calendar_note"]
    assert_due_on_working_day(calendar_knowing_nothing, step, utcnow())
    assert datetime.fromisoformat(step["due_at"]).astimezone(CHINA).weekday() < 5
    assert f"the calendar does not know {year}" in caplog.text
    assert response.json()["id"] in caplog.text
    after = (await client.get("/metrics")).text
    year_label = str(year)
    assert series_value(after, "cdo_calendar_unknown_year_total", year=year_label) >= 1 + (
        series_value(before, "cdo_calendar_unknown_year_total", year=year_label)
    )
    assert series_value(after, "cdo_calendar_last_known_year") == 0  # nothing known: no value
    # ... and the requester's staff read it on the request's page in the console.
    staff = await new_person(sessionmaker, settings, "gz-rsj", "staff")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as web:
        assert (await sign_in(web, staff)).status_code == 303
        page = await web.get(f"/console/requests/{response.json()['id']}")
    assert page.status_code == 200
    assert f"{year}年节假日安排尚未收录" in page.text


async def test_a_broker_started_with_holidays_file_skips_its_days(
    app: FastAPI, settings: Settings, as_org: Headers, tmp_path: Path
) -> None:
    today = china_day(utcnow())
    # The next ten days are declared off: the whole first working week after today is gone.
    off = [today + timedelta(days=n) for n in range(1, 11)]
    document: dict[int, dict[str, list[str]]] = {}
    for day in off:
        document.setdefault(day.year, {"holidays": [], "workdays": []})
        document[day.year]["holidays"].append(day.isoformat())
    holidays = tmp_path / "holidays.yaml"
    holidays.write_text(yaml.safe_dump(document), encoding="utf-8")
    file_calendar = WorkingCalendar.packaged(
        {year: YearRules(frozenset(day for day in off if day.year == year)) for year in document}
    )

    async with broker_with(app, settings, holidays_file=holidays) as other:
        assert current().source(today.year).value == "file"
        response = await file(other, await as_org("gz-rsj"), request_body(DATASET, ["reason"]))
    assert response.status_code == 201, response.text
    (step,) = response.json()["route"]
    due_day = datetime.fromisoformat(step["due_at"]).astimezone(CHINA).date()
    assert due_day > off[-1]
    assert_due_on_working_day(file_calendar, step, datetime.fromisoformat(step["started_at"]))
    assert current().source(today.year).value != "file"  # the app's end put the calendar back


async def test_a_bad_holidays_file_stops_the_start_naming_the_entry(
    settings: Settings, tmp_path: Path
) -> None:
    holidays = tmp_path / "holidays.yaml"
    holidays.write_text("2027:\n  holidays: [2027-01-01, 2027-02-30]\n  workdays: []\n")
    broken = create_app(settings.model_copy(update={"holidays_file": holidays}))
    with pytest.raises(HolidaysFileError) as refused:
        async with broken.router.lifespan_context(broken):
            pass
    assert "$['2027'].holidays[1]: '2027-02-30' is not a 'date'" in str(refused.value)
    assert str(holidays) in str(refused.value)


async def test_an_escalation_gives_the_new_approver_working_days(
    app: FastAPI,
    client: httpx.AsyncClient,
    as_org: Headers,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    filed = await file(client, await as_org("gz-rsj"), request_body(DATASET, ["approved_on"]))
    request_id = filed.json()["id"]
    async with sessionmaker() as session:
        await session.execute(
            update(RequestStep)
            .where(RequestStep.request_id == request_id)
            .values(due_at=utcnow() - timedelta(days=31))  # before any other test's
        )
        await session.commit()
    lapsed_at = utcnow()
    await sla.run_once(sessionmaker, policy=app.state.routing_policy, links=LINKS)
    shown = await client.get(f"/v1/requests/{request_id}", headers=await as_org("gz-rsj"))
    (step,) = shown.json()["route"]
    assert step["escalations"] == 1, step
    assert_due_on_working_day(current(), step, lapsed_at)


async def test_a_decision_records_its_working_time(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    filed = await file(client, await as_org("gz-rsj"), request_body(DATASET, ["migration_type"]))
    request_id = filed.json()["id"]
    decided = await decide(client, await as_org("gz-gaj"), request_id, decision="approve")
    assert decided.status_code == 200, decided.text
    async with sessionmaker() as session:
        decision = await session.scalar(select(Decision).where(Decision.request_id == request_id))
    assert decision is not None
    # Seconds after filing: at most as much working time as elapsed time, none at night.
    assert decision.working_seconds is not None
    assert 0 <= decision.working_seconds <= decision.clock_seconds + 1
