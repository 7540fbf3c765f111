from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class AuditEntry(Base):
    """Append-only: each row's `hash` is a MAC of its content and the hash of the previous row
    of its `chain` (broker/audit/service.py says why there are several)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str | None] = mapped_column(String(100), index=True)  # organisation id
    client_id: Mapped[str | None] = mapped_column(String(64))
    person_id: Mapped[str | None] = mapped_column(String(64))  # who signed in, once people do
    action: Mapped[str] = mapped_column(String(60), index=True)
    subject: Mapped[str | None] = mapped_column(String(100), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    chain: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    # The AUDIT_KEY that keyed `hash` (audit/keys.py); null: a row from before the chain was
    # keyed, hashed with plain SHA-256, which verification accepts only before a keyed row.
    key_id: Mapped[str | None] = mapped_column(String(16))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditChainHead(Base):
    """The newest hash of each chain, and the one before it: appending updates this row (its
    lock orders the chain) and inserts the entry in one statement."""

    __tablename__ = "audit_chain_heads"

    chain: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
