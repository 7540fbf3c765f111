"""Grants: what an approval produces, expressed as OAuth scope `dataset:<id>:read`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base, UTCDateTime


class Grant(Base):
    __tablename__ = "grants"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # unique: one request yields at most one grant, however often its approval is replayed
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), unique=True)
    grantee_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), index=True)
    fields: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(Text)
    jurisdiction: Mapped[str | None] = mapped_column(String(12))
    scope: Mapped[str] = mapped_column(String(120))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # active <-> paused; -> revoked | expired (final)
    status: Mapped[str] = mapped_column(String(20), index=True)
    decision_ids: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    # Introspections that found the grant's tokens active: unused grants show up at zero.
    use_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class GrantUseBatch(Base):
    """A batch of introspections' uses counted in Redis, once added to `grants` (broker
    oauth/uses.py): its id makes adding it again, after a crash before Redis forgot it, a no-op.
    Rows older than a day are pruned by the next batch."""

    __tablename__ = "grant_use_batches"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    flushed_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=func.now(), index=True
    )  # the prune reads it


class GrantChange(Base):
    """One change of a grant's standing, in the order the feed (`GET /v1/grants/changes`) tells
    providers about it.

    `seq` is allocated when the row is inserted, not when its transaction commits, so on
    PostgreSQL a row with a smaller `seq` can become visible after one with a larger. `tx` (the
    inserting transaction's id, `pg_current_xact_id()`) fixes that: a reader only takes rows whose
    transaction is older than every transaction still running (the snapshot's xmin), and orders
    by `(tx, seq)`; no row can later appear before a position it has passed. On SQLite writers
    are serial, `tx` is 0 and `seq` alone orders.
    """

    __tablename__ = "grant_changes"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    tx: Mapped[int] = mapped_column(BigInteger, server_default=FetchedValue())
    grant_id: Mapped[str] = mapped_column(String(40))
    provider_id: Mapped[str] = mapped_column(String(64))
    grantee_id: Mapped[str] = mapped_column(String(64))
    dataset_id: Mapped[str] = mapped_column(String(100))
    event: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_grant_changes_position", "tx", "seq"),
        Index("ix_grant_changes_provider_position", "provider_id", "tx", "seq"),
    )
