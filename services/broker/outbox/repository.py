"""All SQL of the outbox's readers. The relay's statements run on its own connection: the unsent
rows of its shards read and marked, and the advisory locks by which relays share the shards
(PostgreSQL only; `shards` decides which to take). That connection runs in autocommit: the
caller commits only to end SQLAlchemy's own transaction, so none of these pays for BEGIN and
COMMIT round trips. `backlog` (the gauges') and `events_about` (a request's timeline) run in a
session, as do the archiving statements (`archive_events`, `archive_deliveries`; the job is
outbox/archive.py)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    SmallInteger,
    Table,
    Update,
    all_,
    any_,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.clock import utcnow
from core.models.outbox import ArchivedEvent, OutboxEvent
from core.models.webhooks import ArchivedAttempt, ArchivedDelivery

_INT4 = 2**31


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An unsent row as the relay read it."""

    id: int
    event_id: str
    topic: str
    key: str
    type: str
    source: str
    subject: str | None
    data: dict[str, Any]
    traceparent: str | None
    tracestate: str | None
    created_at: datetime


_PENDING_COLUMNS = [getattr(OutboxEvent, field.name) for field in fields(PendingEvent)]


def _unsent_of(shards: ColumnElement[bool]) -> Select[Any]:
    return (
        select(*_PENDING_COLUMNS)
        .where(OutboxEvent.sent_at.is_(None), shards)
        .order_by(OutboxEvent.id)
        .limit(bindparam("limit"))
    )


# Built once: the relay runs it after every commit.
_FETCH = _unsent_of(OutboxEvent.shard.in_(bindparam("shards", expanding=True)))


async def unsent(
    connection: AsyncConnection, shards: Collection[int], limit: int
) -> list[PendingEvent]:
    """The oldest unsent rows of `shards`, in id order (the order of each key's events)."""
    params = {"shards": sorted(shards), "limit": limit}
    return [PendingEvent(*row) for row in (await connection.execute(_FETCH, params)).all()]


async def backlog(session: AsyncSession, *, now: datetime | None = None) -> tuple[int, float]:
    """How many events wait for the relay, and the age in seconds of the oldest (0 if none)."""
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(OutboxEvent.created_at)).where(
                OutboxEvent.sent_at.is_(None)
            )
        )
    ).one()
    if oldest is None:
        return 0, 0.0
    return int(count), max(0.0, ((now or utcnow()) - oldest).total_seconds())


async def events_about(
    session: AsyncSession, subjects: Collection[str]
) -> list[OutboxEvent | ArchivedEvent]:
    """Every event recorded about `subjects` (a request, and the problem reports naming it), in
    the order recorded, archived ones (outbox/archive.py) included."""
    found: list[OutboxEvent | ArchivedEvent] = []
    for model in (ArchivedEvent, OutboxEvent):
        found += await session.scalars(select(model).where(model.subject.in_(subjects)))
    return sorted(found, key=lambda event: event.id)


def _marking(row_ids: ColumnElement[bool]) -> Update:
    return (
        update(OutboxEvent)
        .where(row_ids, OutboxEvent.sent_at.is_(None))
        .values(
            sent_at=bindparam("now", type_=OutboxEvent.__table__.c.sent_at.type),
            attempts=OutboxEvent.attempts + 1,
            last_error=None,
        )
    )


# Built once, as `_FETCH`: the relay marks after every batch it publishes.
_MARK_SENT = _marking(OutboxEvent.id.in_(bindparam("row_ids", expanding=True)))


async def mark_sent(connection: AsyncConnection, row_ids: list[int], acked_at: datetime) -> None:
    """Kafka acked these rows at `acked_at`, their `sent_at`. One already marked (by a relay
    that had their shard before) keeps its first `sent_at`."""
    if row_ids:
        await connection.execute(_MARK_SENT, {"row_ids": row_ids, "now": acked_at})


# After a batch every row of which was acked: the mark and the next batch's read in one round
# trip. The CTE's UPDATE is not visible to the SELECT (one snapshot), so the rows it marks are
# left out by id; every other unsent row of the shards is read as `unsent` reads it. PostgreSQL
# only, so the ids and the shards go as arrays: one text whatever their counts, which nothing
# renders again per execution (as expanding IN lists are) and one prepared statement serves.
_ROW_IDS = bindparam("row_ids", type_=postgresql.ARRAY(BigInteger))
_MARK_SENT_THEN_FETCH = (
    _unsent_of(OutboxEvent.shard == any_(bindparam("shards", type_=postgresql.ARRAY(SmallInteger))))
    .where(OutboxEvent.id != all_(_ROW_IDS))
    .add_cte(_marking(OutboxEvent.id == any_(_ROW_IDS)).cte("marked"))
)


async def mark_sent_then_unsent(
    connection: AsyncConnection,
    row_ids: list[int],
    acked_at: datetime,
    shards: Collection[int],
    limit: int,
) -> list[PendingEvent]:
    """`mark_sent(row_ids, acked_at)`, then `unsent(shards, limit)`: in one statement on
    PostgreSQL (its data-modifying CTE), in two elsewhere (SQLite)."""
    if connection.dialect.name != "postgresql":
        await mark_sent(connection, row_ids, acked_at)
        return await unsent(connection, shards, limit)
    params = {"row_ids": row_ids, "now": acked_at, "shards": sorted(shards), "limit": limit}
    rows = (await connection.execute(_MARK_SENT_THEN_FETCH, params)).all()
    return [PendingEvent(*row) for row in rows]


async def mark_failed(connection: AsyncConnection, errors: Mapping[int, str]) -> None:
    """These rows did not reach Kafka: counted and described, left unsent."""
    if errors:
        await connection.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id == bindparam("row_id"))
            .values(attempts=OutboxEvent.attempts + 1, last_error=bindparam("error")),
            [{"row_id": row_id, "error": error} for row_id, error in errors.items()],
        )


# --- the shards' advisory locks: (namespace, shard), the namespace being the table's oid as int4


async def lock_namespace(connection: AsyncConnection) -> int:
    """The outbox table's oid as the int4 that advisory locks take as their first key."""
    oid = (
        await connection.execute(
            text("SELECT CAST(to_regclass(:table) AS oid)"),
            {"table": OutboxEvent.__tablename__},
        )
    ).scalar_one()
    if oid is None:
        raise RuntimeError("no outbox_events table: run `cdo-broker migrate`")
    return int(oid - 2 * _INT4 if oid >= _INT4 else oid)


async def lock_shared(connection: AsyncConnection, namespace: int, key: int) -> None:
    await connection.execute(
        text("SELECT pg_advisory_lock_shared(:ns, :key)"), {"ns": namespace, "key": key}
    )


async def try_lock(connection: AsyncConnection, namespace: int, key: int) -> bool:
    taken = await connection.execute(
        text("SELECT pg_try_advisory_lock(:ns, :key)"), {"ns": namespace, "key": key}
    )
    return bool(taken.scalar_one())


async def unlock(connection: AsyncConnection, namespace: int, key: int) -> None:
    await connection.execute(
        text("SELECT pg_advisory_unlock(:ns, :key)"), {"ns": namespace, "key": key}
    )


async def unlock_all(connection: AsyncConnection) -> None:
    await connection.execute(text("SELECT pg_advisory_unlock_all()"))


async def shared_holders(connection: AsyncConnection, namespace: int, key: int) -> int:
    """How many sessions of this database hold the lock (namespace, key) shared."""
    count = (
        await connection.execute(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND database = (SELECT oid FROM pg_database"
                "                 WHERE datname = current_database())"
                " AND classid = :classid AND objid = :key AND objsubid = 2"
            ),
            {"classid": namespace % (2 * _INT4), "key": key},
        )
    ).scalar_one()
    return int(count)


# Archiving (outbox/archive.py): one statement moves a batch, DELETE ... RETURNING into INSERT.
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


async def archive_events(session: AsyncSession, *, before: datetime, limit: int) -> int:
    """Up to `limit` events published before `before` moved to the archive; how many."""
    result = await session.execute(_EVENTS, {"before": before, "limit": limit})
    return result.rowcount  # type: ignore[attr-defined,no-any-return]


async def archive_deliveries(session: AsyncSession, *, before: datetime, limit: int) -> int:
    """Up to `limit` deliveries delivered before `before` moved, with their attempts; how many."""
    result = await session.execute(_DELIVERIES, {"before": before, "limit": limit})
    return result.rowcount  # type: ignore[attr-defined,no-any-return]
