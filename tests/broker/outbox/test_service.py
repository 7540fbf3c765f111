"""Recording events in the caller's transaction; the backlog; the table the migration makes."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import Connection, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from broker.outbox.repository import backlog, mark_sent_then_unsent
from core import topics
from core.clock import utcnow
from core.models import Base
from core.models.outbox import SHARDS, OutboxEvent, shard_of
from core.outbox import record_event
from testing.outbox import EVENT_TYPE, pending

pytestmark = pytest.mark.integration

Sessions = async_sessionmaker[AsyncSession]


async def test_an_event_is_written_by_the_callers_transaction_not_committed(
    outbox: Sessions,
) -> None:
    async with outbox() as session:
        event = await record_event(
            session, topic=topics.GRANTS, key="grt_1", type=EVENT_TYPE, data={"grant_id": "grt_1"}
        )
        await session.flush()  # the caller's next flush or its commit writes it

        assert event.id is not None
        assert uuid.UUID(event.event_id).version == 4
        assert (event.shard, event.source, event.attempts) == (shard_of("grt_1"), "/cdo-broker", 0)
        assert event.sent_at is None
        assert await pending(outbox) == 0  # the relay sees nothing until the caller commits
        await session.commit()
    assert await pending(outbox) == 1


async def test_marking_a_batch_sent_reads_the_next_without_the_rows_it_marked(
    outbox: Sessions, outbox_engine: AsyncEngine
) -> None:
    async with outbox() as session:
        recorded = [
            await record_event(
                session, topic=topics.REQUESTS, key=f"req_{n % 2}", type=EVENT_TYPE, data={"n": n}
            )
            for n in range(5)
        ]
        await session.commit()
    ids = [event.id for event in recorded]

    async with outbox_engine.connect() as connection:
        following = await mark_sent_then_unsent(connection, ids[:2], utcnow(), range(SHARDS), 2)
        await connection.commit()

    assert [row.id for row in following] == ids[2:4]  # the oldest unsent, in id order
    assert [row.data for row in following] == [{"n": 2}, {"n": 3}]
    assert await pending(outbox) == 3  # the two marked, the rows read still unsent


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"topic": "datashare.nowhere"}, "unknown topic"),
        ({"key": ""}, "key"),
        ({"traceparent": "not-a-traceparent"}, "traceparent"),
        ({"data": {"blob": "x" * 1_000_000}}, "over 1000000 bytes"),
    ],
)
async def test_a_malformed_event_is_refused(
    outbox: Sessions, options: dict[str, Any], message: str
) -> None:
    event = {"topic": topics.REQUESTS, "key": "req_1", "type": EVENT_TYPE, "data": {}} | options
    async with outbox() as session:
        with pytest.raises(ValueError, match=message):
            await record_event(session, **event)


async def test_the_current_span_is_recorded_as_the_trace_context(outbox: Sessions) -> None:
    tracer = TracerProvider().get_tracer("test")
    async with outbox() as session:
        with tracer.start_as_current_span("file request") as span:
            event = await record_event(
                session, topic=topics.REQUESTS, key="req_1", type=EVENT_TYPE, data={}
            )
        untraced = await record_event(
            session, topic=topics.REQUESTS, key="req_1", type=EVENT_TYPE, data={}
        )

    context = span.get_span_context()
    flags = f"{context.trace_flags:02x}"
    assert event.traceparent == f"00-{context.trace_id:032x}-{context.span_id:016x}-{flags}"
    assert untraced.traceparent is None


async def test_backlog_counts_unsent_events_and_ages_the_oldest(outbox: Sessions) -> None:
    async with outbox() as session:
        assert await backlog(session) == (0, 0.0)
        first = await record_event(
            session, topic=topics.REQUESTS, key="req_1", type=EVENT_TYPE, data={}
        )
        second = await record_event(
            session, topic=topics.REQUESTS, key="req_2", type=EVENT_TYPE, data={}
        )
        await session.commit()
        later = second.created_at + timedelta(seconds=90)

        count, age = await backlog(session, now=later)
        assert count == 2
        assert age == pytest.approx((later - first.created_at).total_seconds())

        await session.execute(
            update(OutboxEvent).where(OutboxEvent.id == first.id).values(sent_at=later)
        )
        assert await backlog(session, now=later) == (1, 90.0)


async def test_the_migration_makes_the_table_the_model_describes(sessionmaker: Sessions) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [d for d in compare_metadata(context, Base.metadata) if "outbox_events" in repr(d)]

    async with sessionmaker() as session:
        connection = await session.connection()
        assert await connection.run_sync(differences) == []
        index = await session.scalar(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_outbox_events_unsent'")
        )
    assert index is not None
    assert index.endswith("(shard, id) WHERE (sent_at IS NULL)")
