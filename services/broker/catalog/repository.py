"""All SQL of the catalog."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.kit.filters import where_given
from core.models.catalog import Dataset


async def list_datasets(
    session: AsyncSession,
    *,
    owner_id: str | None,
    sharing_class: str | None,
    after: str | None,
    limit: int,
    words: str | None = None,
    status: str | None = None,
) -> Sequence[Dataset]:
    """`words`: in the name (Chinese or English) or the id, as typed (no wildcards);
    `status`: only entries of that status (`published`: those a request may name)."""
    query = select(Dataset).order_by(Dataset.id).limit(limit)
    if words:
        query = query.where(
            or_(*(column.icontains(words, autoescape=True)
                  for column in (Dataset.name, Dataset.name_en, Dataset.id)))
        )  # fmt: skip
    query = where_given(
        query,
        (Dataset.owner_id, owner_id),
        (Dataset.sharing_class, sharing_class),
        (Dataset.status, status),
    )
    if after is not None:
        query = query.where(Dataset.id > after)
    return (await session.scalars(query)).all()
