"""Archiving: published outbox rows and delivered webhooks (with their attempts) older than
ARCHIVE_AFTER_DAYS move to their archive tables, a batch per statement.

Every filing writes the outbox, the relay reads its unsent rows, the notifier inserts and claims
deliveries: those tables, and their indexes, are what the write path pays for. Kept whole they
grow by millions of rows a year at the province's scale; archived, they hold the last weeks.
Nothing is lost: a request's timeline reads both (outbox/repository.py `events_about`,
webhooks/repository.py). Unsent events stay, whatever their age (the relay still owes them), and
so do dead and undeliverable deliveries (an operator may replay them).

One statement moves a batch (DELETE ... RETURNING into INSERT), so a row is in exactly one of
the two tables at every moment; `SKIP LOCKED` lets two brokers archive side by side. PostgreSQL
only: the SQLite quick run keeps everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models.outbox import ArchivedEvent
from core.models.webhooks import ArchivedAttempt, ArchivedDelivery


def _columns(model: type[ArchivedEvent | ArchivedDelivery | ArchivedAttempt]) -> str:
    table = model.__table__
    assert isinstance(table, Table)
    return ", ".join(c.name for c in table.columns)


_EVENTS = text(f"""
WITH moved AS (
    DELETE FROM outbox_events WHERE id IN (
        SELECT id FROM outbox_events WHERE sent_at < :before
        ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED)
    RETURNING {_columns(ArchivedEvent)})
INSERT INTO outbox_archive ({_columns(ArchivedEvent)})
SELECT {_columns(ArchivedEvent)} FROM moved
""")  # ids are allocated in time order: the oldest rows are the first the primary key finds
_DELIVERIES = text(f"""
WITH moved AS (
    DELETE FROM webhook_deliveries WHERE id IN (
        SELECT id FROM webhook_deliveries WHERE status = 'delivered' AND delivered_at < :before
        LIMIT :limit FOR UPDATE SKIP LOCKED)
    RETURNING {_columns(ArchivedDelivery)}),
attempts AS (
    DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM moved)
    RETURNING {_columns(ArchivedAttempt)}),
kept_attempts AS (
    INSERT INTO webhook_attempts_archive ({_columns(ArchivedAttempt)})
    SELECT {_columns(ArchivedAttempt)} FROM attempts)
INSERT INTO webhook_deliveries_archive ({_columns(ArchivedDelivery)})
SELECT {_columns(ArchivedDelivery)} FROM moved
""")


@dataclass(frozen=True)
class Archived:
    events: int
    deliveries: int


async def archive_batch(session: AsyncSession, *, before: datetime, limit: int) -> Archived:
    """Moves up to `limit` events and `limit` deliveries older than `before`; the caller
    commits. Fewer than `limit` of each: nothing older is left."""
    if session.get_bind().dialect.name != "postgresql":
        return Archived(0, 0)
    values = {"before": before, "limit": limit}
    events = await session.execute(_EVENTS, values)
    deliveries = await session.execute(_DELIVERIES, values)
    return Archived(events.rowcount, deliveries.rowcount)  # type: ignore[attr-defined]


async def archive_all(
    sessionmaker: async_sessionmaker[AsyncSession], *, before: datetime, batch: int = 5000
) -> Archived:
    """Batches until nothing older than `before` is left, each in a transaction of its own (a
    short lock on a batch of rows, never on the whole backlog)."""
    events = deliveries = 0
    while True:
        async with sessionmaker() as session, session.begin():
            moved = await archive_batch(session, before=before, limit=batch)
        events, deliveries = events + moved.events, deliveries + moved.deliveries
        if moved.events < batch and moved.deliveries < batch:
            return Archived(events, deliveries)
