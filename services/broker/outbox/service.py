"""How far the relay is behind."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import utcnow
from core.models.outbox import OutboxEvent


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
