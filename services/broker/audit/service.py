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

from sqlalchemy import Select, func, insert, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit.models import AuditEntry
from broker.kit.clock import utcnow

GENESIS = "0" * 64
_LOCK_KEY = 0x0A0D17  # "audit": one chain, one writer at a time


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    return hashlib.sha256(f"{prev_hash}|{_canonical(entry)}".encode()).hexdigest()


def _canonical(entry: AuditEntry) -> str:
    content = {
        "occurred_at": entry.occurred_at.isoformat(),
        "actor": entry.actor,
        "client_id": entry.client_id,
        "action": entry.action,
        "subject": entry.subject,
        "detail": entry.detail,
    }
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


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
    entry = AuditEntry(
        occurred_at=now or utcnow(),
        actor=actor,
        client_id=client_id,
        action=action,
        subject=subject,
        detail=json.loads(json.dumps(detail, default=str)),
    )
    if session.get_bind().dialect.name != "postgresql":
        previous = await session.scalar(_newest_hash())
        entry.prev_hash = previous or GENESIS
        entry.hash = entry_hash(entry.prev_hash, entry)
        session.add(entry)
        await session.flush()
        return entry
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    # The lock is held until commit, so every round trip after it slows every audited write:
    # the newest hash is read, and the new one computed (sha256 over the same text as
    # `entry_hash`), by the INSERT itself. Its snapshot is taken after the lock is granted, so it
    # sees the previous holder's row.
    prev_hash = func.coalesce(_newest_hash().scalar_subquery(), GENESIS)
    hash_text = prev_hash.concat("|").concat(literal(_canonical(entry)))
    new_hash = func.encode(func.sha256(func.convert_to(hash_text, "UTF8")), "hex")
    row = (
        await session.execute(
            insert(AuditEntry)
            .values(
                occurred_at=entry.occurred_at,
                actor=entry.actor,
                client_id=entry.client_id,
                action=entry.action,
                subject=entry.subject,
                detail=entry.detail,
                prev_hash=prev_hash,
                hash=new_hash,
            )
            .returning(AuditEntry.id, AuditEntry.prev_hash, AuditEntry.hash)
        )
    ).one()
    entry.id, entry.prev_hash, entry.hash = row
    return entry  # not in the session: the row is written and never changes


def _newest_hash() -> Select[Any]:
    return select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)


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
