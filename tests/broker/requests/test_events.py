"""Every state change writes its events in the same transaction; each validates against its
committed JSON Schema; per request they come in lifecycle order."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models.outbox import OutboxEvent
from testing.clients import Headers, decide, file
from testing.events import validator_for
from testing.workloads import request_body

pytestmark = pytest.mark.integration


async def events_of(
    sessionmaker: async_sessionmaker[AsyncSession], request_id: str
) -> list[OutboxEvent]:
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(OutboxEvent).where(OutboxEvent.subject == request_id).order_by(OutboxEvent.id)
        )
        return list(rows)


async def test_a_cross_level_approval_emits_its_events_in_order_and_valid(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    body = request_body("gd-rst-social-insurance-enrolment", ["id_number"])
    request: dict[str, Any] = (await file(client, await as_org("gz-gaj"), body)).json()
    await decide(client, await as_org("gz-gov"), request["id"], decision="approve")
    await decide(client, await as_org("gd-rst"), request["id"], decision="approve")

    events = await events_of(sessionmaker, request["id"])

    assert [e.type.removeprefix("cn.gov.gd.cdo.") for e in events] == [
        "request.submitted",
        "request.routed",
        "approval.requested",
        "request.step_decided",
        "approval.requested",
        "request.step_decided",
        "grant.issued",
        "request.approved",
    ]
    approvals = [e for e in events if e.topic == "datashare.approvals"]
    assert [e.key for e in approvals] == ["gz-gov", "gd-rst"]
    assert all(e.key == request["id"] for e in events if e.topic == "datashare.requests")
    task = approvals[1].data
    assert task["decision_url"].endswith(f"/v1/requests/{request['id']}/decision")
    assert task["requester"]["id"] == "gz-gaj"
    assert task["route"][0]["decisions"][0]["decision"] == "approve"
    for event in events:
        validator_for(event.type).validate(event.data)
        assert event.traceparent is not None
        assert event.traceparent.split("-")[1] == request["trace_id"]
