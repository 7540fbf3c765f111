"""The audit log: every security-relevant action, hash-chained so an edit or a deletion shows.

Appending takes a transaction-scoped advisory lock (PostgreSQL) so the chain has one order; the
lock is held until the audited change commits, which serialises audited writes. `verify` walks
the chain and names the first row that does not fit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit.models import AuditEntry
from broker.kit.clock import utcnow

GENESIS = "0" * 64
_LOCK_KEY = 0x0A0D17  # "audit": one chain, one writer at a time


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    content = {
        "occurred_at": entry.occurred_at.isoformat(),
        "actor": entry.actor,
        "client_id": entry.client_id,
        "action": entry.action,
        "subject": entry.subject,
        "detail": entry.detail,
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}|{canonical}".encode()).hexdigest()


async def record(
    session: AsyncSession,
    action: str,
    *,
    actor: str | None,
    subject: str | None,
    client_id: str | None = None,
    now: datetime | None = None,
    **detail: Any,
) -> AuditEntry:
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    previous = await session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    entry = AuditEntry(
        occurred_at=now or utcnow(),
        actor=actor,
        client_id=client_id,
        action=action,
        subject=subject,
        detail=json.loads(json.dumps(detail, default=str)),
        prev_hash=previous or GENESIS,
    )
    entry.hash = entry_hash(entry.prev_hash, entry)
    session.add(entry)
    await session.flush()
    return entry


@dataclass(frozen=True)
class Verdict:
    rows: int
    broken_at: int | None  # the id of the first row that does not fit the chain
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


async def _entries(session: AsyncSession) -> AsyncIterator[AuditEntry]:
    result = await session.stream_scalars(select(AuditEntry).order_by(AuditEntry.id))
    async for entry in result:
        yield entry


async def verify(session: AsyncSession) -> Verdict:
    previous, rows = GENESIS, 0
    async for entry in _entries(session):
        rows += 1
        if entry.prev_hash != previous:
            return Verdict(rows, entry.id, "a row before it was removed or changed")
        if entry_hash(previous, entry) != entry.hash:
            return Verdict(rows, entry.id, "its content was changed")
        previous = entry.hash
    return Verdict(rows, None, None)
