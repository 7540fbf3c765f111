"""`cdo-broker archive`: published events and delivered webhooks past the retention move to the
archive tables, in one statement each, and a request's timeline still finds them; what is owed
(unsent events) or may be replayed (dead deliveries) stays."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.outbox.archive import archive_all
from broker.outbox.repository import events_about
from broker.webhooks.repository import attempts_of, deliveries_about
from core import topics
from core.events import RequestEvent, RequestEventName
from core.models.outbox import ArchivedEvent, OutboxEvent, shard_of
from core.models.webhooks import ArchivedDelivery, WebhookAttempt, WebhookDelivery

pytestmark = pytest.mark.integration

LONG_AGO = datetime(1999, 6, 1, tzinfo=UTC)  # before anything the rest of the suite writes
BEFORE = datetime(2000, 1, 1, tzinfo=UTC)
RECENT = datetime.now(UTC) - timedelta(minutes=5)


def _event(subject: str, created_at: datetime, sent: bool) -> OutboxEvent:
    # A valid event: the session's relay publishes the unsent one, and every event on Kafka
    # is checked against its schema.
    data = RequestEvent(
        event=RequestEventName.submitted, request_id=subject, kind="share", status="pending",
        requester_id="zq-dsb", provider_id="gz-gaj", dataset_id="gz-gaj-household-migration",
        trace_id="0" * 32, occurred_at=created_at, actor="zq-dsb", step=None,
    ).model_dump(mode="json")  # fmt: skip
    return OutboxEvent(
        event_id=secrets.token_hex(16), topic=topics.REQUESTS, key=subject,
        shard=shard_of(subject), type="cn.gov.gd.cdo.request.submitted", source="/cdo-broker",
        subject=subject, data=data, created_at=created_at,
        sent_at=created_at + timedelta(seconds=1) if sent else None, attempts=int(sent),
    )  # fmt: skip


def _delivery(subject: str, created_at: datetime, status: str) -> WebhookDelivery:
    return WebhookDelivery(
        id=f"msg_{secrets.token_hex(16)}", organisation_id="gz-gaj", channel="webhook",
        event_type="approval.requested", ce_id=secrets.token_hex(8), request_id=subject,
        payload={}, status=status, attempts=1, created_at=created_at,
        delivered_at=created_at if status == "delivered" else None,
    )  # fmt: skip


async def test_old_published_rows_move_and_the_timeline_still_reads_them(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: object
) -> None:
    subject = f"req_archive_{secrets.token_hex(4)}"
    old_sent, old_unsent = _event(subject, LONG_AGO, True), _event(subject, LONG_AGO, False)
    recent = _event(subject, RECENT, True)
    delivered, dead = (
        _delivery(subject, LONG_AGO, "delivered"),
        _delivery(subject, LONG_AGO, "dead"),
    )
    async with sessionmaker() as session:
        session.add_all([old_sent, old_unsent, recent, delivered, dead])
        await session.flush()
        for n, delivery in enumerate((delivered, delivered, dead)):
            session.add(
                WebhookAttempt(
                    delivery_id=delivery.id, endpoint_url="https://cdo.example.gov.cn/hooks",
                    attempted_at=LONG_AGO + timedelta(seconds=n), status_code=200 if n else 503,
                    latency_ms=20, outcome="delivered" if n else "retry",
                )
            )  # fmt: skip
        await session.commit()

    moved = await archive_all(sessionmaker, before=BEFORE, batch=1)

    assert (moved.events, moved.deliveries) == (1, 1)
    async with sessionmaker() as session:
        left = set(
            await session.scalars(select(OutboxEvent.id).where(OutboxEvent.subject == subject))
        )
        assert left == {old_unsent.id, recent.id}  # owed to Kafka, or not old yet
        archived = await session.get(ArchivedEvent, old_sent.id)
        assert archived is not None
        assert (archived.event_id, archived.sent_at) == (old_sent.event_id, old_sent.sent_at)
        assert await session.get(WebhookDelivery, delivered.id) is None
        assert await session.get(ArchivedDelivery, delivered.id) is not None
        assert await session.get(WebhookDelivery, dead.id) is not None  # may be replayed

        assert [e.id for e in await events_about(session, [subject])] == sorted(
            [old_sent.id, old_unsent.id, recent.id]
        )
        deliveries = await deliveries_about(session, subject)
        assert {d.id for d in deliveries} == {delivered.id, dead.id}
        attempts = await attempts_of(session, [delivered.id])
        assert [a.outcome for a in attempts[delivered.id]] == ["retry", "delivered"]
        remaining = select(func.count()).where(WebhookAttempt.delivery_id == delivered.id)
        assert await session.scalar(remaining) == 0

    again = await archive_all(sessionmaker, before=BEFORE)
    assert (again.events, again.deliveries) == (0, 0)
