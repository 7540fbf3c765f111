"""Catalog rules: a dataset is owned by a department and classed for sharing."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.catalog.models import Dataset
from broker.catalog.schemas import DatasetChange, DatasetIn
from broker.directory.models import Organisation, OrgKind
from broker.kit.problems import Conflict, NotFound, Problem


class DatasetNotFound(NotFound):
    def __init__(self, dataset_id: str) -> None:
        super().__init__(f"no dataset '{dataset_id}'", dataset_id=dataset_id)


class DatasetExists(Conflict):
    slug = "dataset-exists"
    title = "Dataset exists"


class InvalidOwner(Problem):
    status = 422
    slug = "invalid-owner"
    title = "Invalid dataset owner"


async def get_dataset(session: AsyncSession, dataset_id: str) -> Dataset:
    dataset = await session.get(Dataset, dataset_id)
    if dataset is None:
        raise DatasetNotFound(dataset_id)
    return dataset


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


async def create_dataset(session: AsyncSession, data: DatasetIn) -> Dataset:
    if await session.get(Dataset, data.id) is not None:
        raise DatasetExists(f"dataset '{data.id}' exists", field="id")
    owner = await session.get(Organisation, data.owner_id)
    if owner is None or owner.kind == OrgKind.government:
        raise InvalidOwner(
            f"owner_id: '{data.owner_id}' is not a department or data bureau", field="owner_id"
        )
    dataset = Dataset(**data.model_dump(mode="json"))
    session.add(dataset)
    await session.flush()
    return dataset


async def change_dataset(session: AsyncSession, dataset_id: str, change: DatasetChange) -> Dataset:
    dataset = await get_dataset(session, dataset_id)
    for field, value in change.model_dump(mode="json", exclude_unset=True).items():
        if value is not None:
            setattr(dataset, field, value)
    await session.flush()
    return dataset
