"""An appeal passes up its chain: when its coordinator lets the deadline lapse (the SLA job), and
at once when the coordinator's CDO leaves office (ended through the API, or by its date and
found by the SLA job); the one passed over decides no more, the new one gets the task."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.audit.actor import SYSTEM, Actor
from broker.directory import service as directory
from broker.requests import sla
from broker.requests.appeal_moves import hand_over_appeals
from broker.requests.handover import hand_over_steps_of
from broker.requests.links import Links
from broker.requests.repository.locks import lock_request
from broker.routing.policy import load_policy
from core.models.directory import Appointment
from core.models.outbox import OutboxEvent
from core.models.requests import Appeal
from testing.appeals import (
    appeal,
    decide_appeal,
    fresh_county,
    refused_by_province,
    refused_in_county,
)
from testing.audit import actors_of
from testing.clients import Headers, TokenFactory, bearer
from testing.database import waiting_for_a_lock
from testing.settings import Settings
from testing.waiting import wait_until

pytestmark = pytest.mark.integration
Sessions = async_sessionmaker[AsyncSession]


def _route(shown: httpx.Response) -> list[tuple[str, bool]]:
    return [(s["organisation_id"], s["current"]) for s in shown.json()["appeal"]["route"]]


async def _events(sessionmaker: Sessions, request_id: str) -> list[OutboxEvent]:
    async with sessionmaker() as session:
        return list(
            await session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.subject == request_id)
                .order_by(OutboxEvent.id)
            )
        )


async def test_an_overdue_appeal_climbs(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: Sessions, settings: Settings
) -> None:
    lapsing = await refused_by_province(client, as_org)
    await appeal(client, await as_org("gz-rsj"), lapsing["id"])
    async with sessionmaker() as session:
        await session.execute(
            update(Appeal)
            .where(Appeal.request_id == lapsing["id"])
            .values(due_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        await session.commit()
    await sla.run_once(sessionmaker, policy=load_policy(), links=Links.of(settings))
    climbed = await client.get(f"/v1/requests/{lapsing['id']}", headers=await as_org("gz-rsj"))
    assert _route(climbed) == [("gd-gov", False), ("gd-dsb", True)]
    assert climbed.json()["appeal"]["route"][1]["escalated_from"] == "gd-gov"
    old = await decide_appeal(
        client, await as_org("gd-gov"), lapsing["id"], decision="uphold", comment="维持"
    )
    assert old.status_code == 403
    assert old.json()["type"].endswith("/not-the-coordinator")
    task = (await _events(sessionmaker, lapsing["id"]))[-1]
    assert task.type.endswith("approval.appeal_escalated")
    assert (task.key, task.data["escalated_from"]) == ("gd-dsb", "gd-gov")
    assert await actors_of(sessionmaker, lapsing["id"], "appeal.escalated") == [SYSTEM]


async def test_a_coordinator_whose_cdo_is_removed_passes_the_appeal_up_at_once(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: Sessions, token_for: TokenFactory
) -> None:
    county = await fresh_county(sessionmaker)
    request_id = await refused_in_county(client, as_org, sessionmaker, county)
    appealed = await appeal(client, await as_org(county.requester), request_id)
    assert appealed.status_code == 201, appealed.text
    assert _route(appealed) == [(county.government, True)]

    bureau = await as_org("gz-dsb")
    admin = bearer(await token_for("gz-dsb", "directory:admin"))
    [term] = (
        await client.get(f"/v1/organisations/{county.government}/appointments", headers=admin)
    ).json()
    ended = await client.post(
        f"/v1/appointments/{term['id']}/end", headers=admin, json={"reason": "免职"}
    )
    assert ended.status_code == 200, ended.text

    moved = await client.get(f"/v1/requests/{request_id}", headers=await as_org(county.requester))
    # the county has no bureau: the city's bureau is next up
    assert _route(moved) == [(county.government, False), ("gz-dsb", True)]
    gone = await decide_appeal(
        client, await as_org(county.government), request_id, decision="uphold", comment="维持"
    )
    assert gone.status_code == 403
    reassigned, task = (await _events(sessionmaker, request_id))[-2:]
    assert reassigned.type.endswith("request.appeal_reassigned")
    assert reassigned.data["detail"]["moves"] == [{"from": county.government, "to": "gz-dsb"}]
    # a task to decide, not an escalation: the body removed let nothing lapse
    assert task.type.endswith("approval.appeal_requested")
    assert (task.key, task.data["escalated_from"]) == ("gz-dsb", None)
    decided = await decide_appeal(
        client, bureau, request_id, decision="overturn", comment="经协调同意共享"
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"


async def test_an_appointment_that_ended_by_its_date_is_found_by_the_sla_job(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: Sessions, settings: Settings
) -> None:
    county = await fresh_county(sessionmaker)
    request_id = await refused_in_county(client, as_org, sessionmaker, county)
    await appeal(client, await as_org(county.requester), request_id)
    async with sessionmaker() as session:
        await session.execute(
            update(Appointment)
            .where(Appointment.organisation_id == county.government)
            .values(ends_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()
    await sla.run_once(sessionmaker, policy=load_policy(), links=Links.of(settings))
    moved = await client.get(f"/v1/requests/{request_id}", headers=await as_org(county.requester))
    assert _route(moved) == [(county.government, False), ("gz-dsb", True)]
    async with sessionmaker() as session:
        escalations = await session.scalar(
            select(Appeal.escalations).where(Appeal.request_id == request_id)
        )
    assert escalations == 0  # a CDO leaving office is no lapse


async def test_a_decision_under_way_waits_for_the_hand_over_and_is_then_refused(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: Sessions, settings: Settings
) -> None:
    """The coordinator decides while its CDO's appointment is being ended: the decision waits
    for the hand-over (on the request's row), then finds the appeal passed up."""
    county = await fresh_county(sessionmaker)
    request_id = await refused_in_county(client, as_org, sessionmaker, county)
    await appeal(client, await as_org(county.requester), request_id)
    coordinator = await as_org(county.government)

    async def the_decision_waits() -> bool:
        return bool(await waiting_for_a_lock(sessionmaker, "%FROM requests%FOR UPDATE%"))

    now = datetime.now(UTC)
    async with sessionmaker() as session, session.begin():  # what ending it through the API does
        [term] = await session.scalars(
            select(Appointment).where(Appointment.organisation_id == county.government)
        )
        await directory.end_appointment(
            session, term.id, ends_at=now, reason="免职", actor=Actor("gz-dsb"), now=now
        )
        await hand_over_steps_of(
            session, county.government, policy=load_policy(), now=now,
            links=Links.of(settings), actor=Actor("gz-dsb"),
        )  # fmt: skip
        deciding = asyncio.create_task(
            decide_appeal(client, coordinator, request_id, decision="uphold", comment="维持")
        )
        await wait_until(the_decision_waits, limit_s=60, what="the decision to wait")
    decided = await deciding
    assert decided.status_code == 403, decided.text
    assert decided.json()["type"].endswith("/not-the-coordinator")
    shown = await client.get(f"/v1/requests/{request_id}", headers=await as_org(county.requester))
    assert shown.json()["appeal"]["status"] == "pending"
    assert _route(shown) == [(county.government, False), ("gz-dsb", True)]


async def test_an_appeal_whose_request_is_being_decided_moves_on_a_later_pass(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: Sessions, settings: Settings
) -> None:
    """A move takes the appeal's request with it, as a step's does, skipping one a decision
    holds: a move holding the appeal while waiting for the request, and a decision holding
    the request while waiting for the appeal, would be a deadlock."""
    county = await fresh_county(sessionmaker)
    request_id = await refused_in_county(client, as_org, sessionmaker, county)
    await appeal(client, await as_org(county.requester), request_id)
    gone = datetime.now(UTC)

    async def hand_over() -> int:
        return await hand_over_appeals(
            job, now=gone, policy=load_policy(), links=Links.of(settings), actor=SYSTEM,
            organisation_id=county.government,
        )  # fmt: skip

    async with sessionmaker() as job:  # the CDO's term ended (seen by this transaction only)
        await job.execute(
            update(Appointment)
            .where(Appointment.organisation_id == county.government)
            .values(ends_at=gone - timedelta(seconds=1))
        )
        async with sessionmaker() as deciding, deciding.begin():
            assert await lock_request(deciding, request_id) is not None  # a decision starts
            # the deadline guards against the deadlock this test is about
            assert await asyncio.wait_for(hand_over(), 60) == 0
        assert await hand_over() == 1  # the decision's transaction ended: it moves now
        await job.rollback()
