"""Only a CDO in office decides: an ended appointment's open steps pass to the level's bureau,
through the end endpoint at once or through the SLA job for an end that came by its date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from broker.audit.actor import SYSTEM, Actor
from broker.requests import decisions, sla
from broker.requests.access import acting_for
from broker.requests.exceptions import CDONotInOffice
from broker.requests.schemas import DecisionIn
from core.clock import utcnow
from core.models.directory import Appointment
from core.models.requests import DataRequest, RequestStep
from testing.apps import LINKS
from testing.audit import actors_of
from testing.clients import Headers, Sessions, TokenFactory, bearer, file, route_of
from testing.organisations import fresh_body, fresh_dataset, remove_cdo
from testing.workloads import request_body

pytestmark = pytest.mark.integration


async def _pending_with(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: Sessions, requester: str = "gz-gaj"
) -> tuple[str, dict[str, Any]]:
    """A fresh Guangzhou department with a CDO, and a request only it decides."""
    provider = await fresh_body(sessionmaker)
    dataset = await fresh_dataset(sessionmaker, provider)
    filed = await file(client, await as_org(requester), request_body(dataset, ["code"]))
    assert filed.status_code == 201, filed.text
    assert route_of(filed.json()) == [[provider]]
    return provider, filed.json()


async def _end_by_date(sessionmaker: Sessions, org: str) -> None:
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(Appointment)
            .where(Appointment.organisation_id == org)
            .values(ends_at=utcnow() - timedelta(seconds=1))
        )


def _current(request: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [
        (a["organisation_id"], a["acting_for"])
        for step in request["route"]
        for a in step["approvers"]
        if a["current"]
    ]


async def test_the_sla_job_hands_over_an_appointment_that_ended_by_its_date(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: Sessions, app: FastAPI
) -> None:
    provider, request = await _pending_with(client, as_org, sessionmaker)
    await _end_by_date(sessionmaker, provider)

    await sla.run_once(sessionmaker, policy=app.state.routing_policy, links=LINKS)

    after = await client.get(f"/v1/requests/{request['id']}", headers=await as_org("gz-gaj"))
    assert _current(after.json()) == [("gz-dsb", provider)]
    # the broker's own write, named as such in the audit log
    assert await actors_of(sessionmaker, request["id"], "request.reassigned") == [SYSTEM]


async def test_the_sla_jobs_escalation_and_expiry_are_audited_as_the_brokers_own(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: Sessions, app: FastAPI
) -> None:
    _, request = await _pending_with(client, as_org, sessionmaker)
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(RequestStep)
            .where(RequestStep.request_id == request["id"], RequestStep.status == "pending")
            .values(due_at=utcnow() - timedelta(seconds=1))
        )
    await sla.run_once(sessionmaker, policy=app.state.routing_policy, links=LINKS)
    assert await actors_of(sessionmaker, request["id"], "request.escalated") == [SYSTEM]

    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(DataRequest)
            .where(DataRequest.id == request["id"])
            .values(period_end=utcnow() - timedelta(seconds=1))
        )
    await sla.run_once(sessionmaker, policy=app.state.routing_policy, links=LINKS)
    after = await client.get(f"/v1/requests/{request['id']}", headers=await as_org("gz-gaj"))
    assert after.json()["status"] == "expired"
    assert await actors_of(sessionmaker, request["id"], "request.expired") == [SYSTEM]


async def test_the_stand_in_is_never_the_requester(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: Sessions, token_for: TokenFactory
) -> None:
    """gz-dsb filed: its department's steps pass over it, to the province's bureau."""
    provider, request = await _pending_with(client, as_org, sessionmaker, requester="gz-dsb")
    await remove_cdo(client, bearer(await token_for("gd-dsb", "directory:admin")), provider)

    after = await client.get(f"/v1/requests/{request['id']}", headers=await as_org("gz-dsb"))
    assert _current(after.json()) == [("gd-dsb", provider)]
    # handed over in the call that ended the appointment: the audit log names its caller
    [ended_by] = await actors_of(sessionmaker, request["id"], "request.reassigned")
    assert ended_by.org_id == "gd-dsb"
    assert ended_by.client_id is not None


async def test_a_successor_in_office_keeps_the_bodys_steps(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: Sessions, token_for: TokenFactory
) -> None:
    provider, request = await _pending_with(client, as_org, sessionmaker)
    admin = bearer(await token_for("gz-dsb", "directory:admin"))
    [current] = (
        await client.get(f"/v1/organisations/{provider}/appointments", headers=admin)
    ).json()

    succeeded = await client.post(
        "/v1/appointments",
        headers=admin,
        json={
            "organisation_id": provider,
            "person_name": "继任者",
            "title": "副局长",
            "appointed_by": "测试党组",
            "filed_with_id": "gz-dsb",
            "starts_at": (datetime.now(UTC) - timedelta(seconds=1)).isoformat(),
            "replaces": current["id"],
        },
    )

    assert succeeded.status_code == 201, succeeded.text
    after = await client.get(f"/v1/requests/{request['id']}", headers=await as_org("gz-gaj"))
    assert _current(after.json()) == [(provider, None)]
    decided = await client.post(
        f"/v1/requests/{request['id']}/decision",
        headers=bearer(await token_for(provider, "approvals:decide")),
        json={"decision": "approve"},
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["route"][0]["decisions"][0]["decided_by"] == "继任者"


async def test_a_cdo_out_of_office_decides_nothing(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: Sessions, app: FastAPI
) -> None:
    """Before any hand-over has run (its end and the decision in one transaction, which no
    other process sees), the decision is refused."""
    provider, request = await _pending_with(client, as_org, sessionmaker)
    async with sessionmaker() as session:
        await session.execute(
            update(Appointment)
            .where(Appointment.organisation_id == provider)
            .values(ends_at=utcnow() - timedelta(seconds=1))
        )
        with pytest.raises(CDONotInOffice):
            await decisions.decide(
                session,
                request_id=request["id"],
                acting=await acting_for(session, Actor(provider), utcnow()),
                body=DecisionIn(decision="approve"),
                now=utcnow(),
                links=LINKS,
                keyring=app.state.keyring,
            )
        await session.rollback()
    async with sessionmaker() as session:
        ends = await session.scalar(
            select(Appointment.ends_at).where(Appointment.organisation_id == provider)
        )
    assert ends is None
