"""Reading the audit log in tests: what a call wrote (or, refused, did not), rows as plain data,
subjects that land in a chosen chain."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.audit import service as audit
from broker.audit.actor import Actor
from core.models.audit import AuditEntry

Sessions = async_sessionmaker[AsyncSession]


async def audit_mark(sessionmaker: Sessions) -> int:
    """The newest audit row's id: `audited_since` it shows what was written after."""
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.coalesce(func.max(AuditEntry.id), 0))) or 0)


async def audited_since(sessionmaker: Sessions, mark: int, *, actor: str) -> list[AuditEntry]:
    """Audit rows written after `mark` that name `actor` as the acting organisation."""
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.id > mark, AuditEntry.actor == actor)
            .order_by(AuditEntry.id)
        )
        return list(rows)


async def actors_of(sessionmaker: Sessions, subject: str, action: str) -> list[Actor]:
    """Who the log says did `action` to `subject`, oldest first: none when it was refused."""
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.subject == subject, AuditEntry.action == action)
            .order_by(AuditEntry.id)
        )
        return [Actor(row.actor, row.client_id, row.person_id) for row in rows]


def subject_in(chain: int, *, not_in: int | None = None) -> str:
    """A fresh subject of `chain` (or of any chain but `not_in`)."""
    while True:
        subject = f"sub-{secrets.token_hex(4)}"
        found = audit.chain_of(subject)
        if (not_in is None and found == chain) or (not_in is not None and found != not_in):
            return subject


def row_of(entry: AuditEntry) -> dict[str, Any]:
    """Every column of the row."""
    return {c.name: getattr(entry, c.name) for c in AuditEntry.__table__.columns}
