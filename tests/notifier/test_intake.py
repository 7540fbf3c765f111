"""Read events become delivery rows: idempotently, a recipient the directory does not know never
blocks the rest of the batch, and neither does an event whose content the database refuses."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import utcnow
from core.models.webhooks import WebhookDelivery
from notifier.intake import Intake, record_deliveries
from notifier.messages import Event
from notifier.repository.autocommit import AutocommitConnection
from testing.events import approval_event

pytestmark = pytest.mark.integration


def _request_id() -> str:
    return f"req_test{uuid.uuid4().hex[:12]}"


async def _rows(
    sessionmaker: async_sessionmaker[AsyncSession], request_ids: list[str]
) -> list[tuple[str, str]]:
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.request_id.in_(request_ids))
        )
        return [(r.organisation_id, r.event_type) for r in rows]


async def test_unknown_recipients_are_skipped_and_repeats_add_nothing(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: object
) -> None:
    request_id = _request_id()
    batch = [approval_event("no-such-body", request_id), approval_event("gz-gaj", request_id)]
    untraced = [None, None]
    async with sessionmaker() as session, session.begin():
        assert await record_deliveries(
            session, batch, now=utcnow(), traceparents=untraced
        ) == Intake(1)
    async with sessionmaker() as session, session.begin():  # consumed twice
        assert await record_deliveries(
            session, batch, now=utcnow(), traceparents=untraced
        ) == Intake(0)
    assert await _rows(sessionmaker, [request_id]) == [("gz-gaj", "approval.requested")]


async def test_an_event_the_database_refuses_is_answered_and_the_rest_recorded(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: object
) -> None:
    """A request id longer than its column fails the batch's INSERT; written one at a time, the
    others go in and the refused one is named, for the dead-letter topic."""
    before, after = _request_id(), _request_id()
    too_long = "req_" + "x" * 60
    batch: list[Event] = [
        approval_event("gz-gaj", before),
        approval_event("gz-gaj", too_long),
        approval_event("gz-gaj", after),
    ]
    database = AutocommitConnection(sessionmaker)
    try:
        intake = await record_deliveries(database, batch, now=utcnow(), traceparents=[None] * 3)
    finally:
        await database.close()
    assert intake.new == 2
    assert list(intake.refused) == [1]
    assert intake.refused[1].startswith("22001: ")  # string data right truncation
    assert sorted(await _rows(sessionmaker, [before, after, too_long])) == [
        ("gz-gaj", "approval.requested"),
        ("gz-gaj", "approval.requested"),
    ]
