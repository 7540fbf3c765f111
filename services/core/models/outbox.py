"""The outbox table: events written in the same transaction as the change they describe."""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base, UTCDateTime

# Rows are spread over this many shards by their key; one relay at a time publishes a shard, in id
# order, which keeps the order per key. Changing it re-homes keys: drain the outbox first.
SHARDS = 16


def shard_of(key: str) -> int:
    """Stable across processes and releases (unlike `hash()`): crc32 of the UTF-8 key."""
    return zlib.crc32(key.encode()) % SHARDS


class _EventColumns:
    """An event's columns, in the outbox and in its archive alike."""

    event_id: Mapped[str] = mapped_column(String(36), unique=True)  # CloudEvents `id`, a UUID
    topic: Mapped[str] = mapped_column(String(249))
    key: Mapped[str] = mapped_column(String(255))
    shard: Mapped[int] = mapped_column(SmallInteger)
    type: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    traceparent: Mapped[str | None] = mapped_column(String(100))
    tracestate: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class OutboxEvent(_EventColumns, Base):
    __tablename__ = "outbox_events"

    # Allocation order is publication order within a shard. SQLite autoincrements INTEGER only.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    __table_args__ = (
        # What the relay reads: the unsent rows of its shards, oldest first. Sent rows, nearly all
        # of the table, stay out of it.
        Index(
            "ix_outbox_events_unsent",
            "shard",
            "id",
            postgresql_where=text("sent_at IS NULL"),
            sqlite_where=text("sent_at IS NULL"),
        ),
        # A request's timeline reads its events by subject.
        Index("ix_outbox_events_subject", "subject"),
    )


class ArchivedEvent(_EventColumns, Base):
    """A published event moved out of `outbox_events` once older than ARCHIVE_AFTER_DAYS
    (broker/outbox/archive.py): the table every filing writes and the relay reads stays the
    size of those days, and a request's timeline still finds its events here."""

    __tablename__ = "outbox_archive"
    __table_args__ = (Index("ix_outbox_archive_subject", "subject"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
