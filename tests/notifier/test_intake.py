"""Read events become delivery rows: idempotently, a recipient the directory does not know never
blocks the rest of the batch, and neither does an event whose content the database refuses."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import utcnow
from core.models.webhooks import WebhookDelivery
from notifier.intake import Intake, record_deliveries
from notifier.messages import Event
from notifier.repository.autocommit import AutocommitConnection
from notifier.repository.deliveries import Taking
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


async def test_the_worker_takes_the_new_webhooks_it_has_slots_for_and_the_rest_stay_due(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: object
) -> None:
    """Two events for a body with one slot free of two: one row is leased and answered, the
    other is written due now, for a claim; a body at its limit has none taken."""
    first, second, third = _request_id(), _request_id(), _request_id()
    now = utcnow()
    lease = now + timedelta(seconds=30)
    batch = [
        approval_event("gz-gaj", first),
        approval_event("gz-gaj", second),
        approval_event("gz-dsb", third),
    ]
    database = AutocommitConnection(sessionmaker)
    try:
        intake = await record_deliveries(
            database,
            batch,
            now=now,
            traceparents=[None] * 3,
            taking=Taking({"gz-gaj": 1, "gz-dsb": 2}, 2, lease),
        )
    finally:
        await database.close()
    assert [row.organisation_id for row in intake.taken] == ["gz-gaj"]
    async with sessionmaker() as session:
        rows = (
            await session.scalars(
                select(WebhookDelivery).where(
                    WebhookDelivery.request_id.in_([first, second, third]),
                    WebhookDelivery.channel == "webhook",
                )
            )
        ).all()
        due = {row.id: row.next_attempt_at for row in rows}
        payloads = {row.id: row.payload for row in rows}
    assert intake.taken[0].payload == payloads[intake.taken[0].id]  # what the worker will POST
    assert due.pop(intake.taken[0].id) == lease
    assert list(due.values()) == [now, now]
