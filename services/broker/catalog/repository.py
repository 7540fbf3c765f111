"""All SQL of the catalog."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models.catalog import Dataset


async def list_datasets(
    session: AsyncSession,
    *,
    owner_id: str | None,
    sharing_class: str | None,
    after: str | None,
    limit: int,
) -> Sequence[Dataset]:
    query = select(Dataset).order_by(Dataset.id).limit(limit)
    if owner_id is not None:
        query = query.where(Dataset.owner_id == owner_id)
    if sharing_class is not None:
        query = query.where(Dataset.sharing_class == sharing_class)
    if after is not None:
        query = query.where(Dataset.id > after)
    return (await session.scalars(query)).all()
