"""The delivery rows the notifier's consumer recorded, counted for its tests."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models.webhooks import WebhookDelivery


async def deliveries_for(sessions: async_sessionmaker[AsyncSession], request_id: str) -> int:
    """How many delivery rows there are for the request's messages."""
    async with sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.request_id == request_id)
        )
    return count or 0
