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

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.outbox import repository


@dataclass(frozen=True)
class Archived:
    events: int
    deliveries: int


async def archive_batch(session: AsyncSession, *, before: datetime, limit: int) -> Archived:
    """Moves up to `limit` events and `limit` deliveries older than `before`; the caller
    commits. Fewer than `limit` of each: nothing older is left."""
    if session.get_bind().dialect.name != "postgresql":
        return Archived(0, 0)
    events = await repository.archive_events(session, before=before, limit=limit)
    deliveries = await repository.archive_deliveries(session, before=before, limit=limit)
    return Archived(events, deliveries)


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
