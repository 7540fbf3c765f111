"""All SQL of the notification channels API."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models.notifications import NotificationChannel


async def channels_of(session: AsyncSession, organisation_id: str) -> Sequence[NotificationChannel]:
    query = (
        select(NotificationChannel)
        .where(NotificationChannel.organisation_id == organisation_id)
        .order_by(NotificationChannel.kind)
    )
    return (await session.scalars(query)).all()


async def channel_of(
    session: AsyncSession, organisation_id: str, kind: str, *, for_update: bool = False
) -> NotificationChannel | None:
    query = select(NotificationChannel).where(
        NotificationChannel.organisation_id == organisation_id, NotificationChannel.kind == kind
    )
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def remove(session: AsyncSession, channel_id: str) -> None:
    await session.execute(delete(NotificationChannel).where(NotificationChannel.id == channel_id))
