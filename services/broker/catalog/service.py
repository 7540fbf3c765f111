"""Catalog rules: a dataset is owned by a department and classed for sharing; only an admin
whose jurisdiction covers the owner adds or changes it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.audit.actor import Actor
from broker.catalog import repository
from broker.catalog.exceptions import DatasetExists, DatasetNotFound, DraftIncomplete, InvalidOwner
from broker.catalog.schemas import DatasetChange, DatasetIn
from broker.directory.service import require_jurisdiction
from broker.kit.changes import apply_change
from broker.kit.lookups import found
from core.models.catalog import Dataset, DatasetStatus
from core.models.directory import Organisation, OrgKind


async def get_dataset(session: AsyncSession, dataset_id: str) -> Dataset:
    return found(await session.get(Dataset, dataset_id), DatasetNotFound, dataset_id)


list_datasets = repository.list_datasets  # a read with nothing to decide


async def create_dataset(
    session: AsyncSession, data: DatasetIn, *, actor: Actor, now: datetime
) -> Dataset:
    if await session.get(Dataset, data.id) is not None:
        raise DatasetExists(data.id)
    owner = await session.get(Organisation, data.owner_id)
    if owner is None or owner.kind == OrgKind.government:
        raise InvalidOwner(data.owner_id)
    await require_jurisdiction(session, actor.organisation, owner.id, field="owner_id", now=now)
    dataset = Dataset(**data.model_dump(mode="json"))
    session.add(dataset)
    await session.flush()
    await audit.record(
        session, "dataset.created", actor=actor, subject=dataset.id, now=now,
        owner=dataset.owner_id, sharing_class=dataset.sharing_class, grade=dataset.grade,
        fields=[f["name"] for f in dataset.fields],
        personal=[f["name"] for f in dataset.fields if f.get("personal")],
    )  # fmt: skip
    return dataset


async def change_dataset(
    session: AsyncSession, dataset_id: str, change: DatasetChange, *, actor: Actor, now: datetime
) -> Dataset:
    dataset = await get_dataset(session, dataset_id)
    await require_jurisdiction(
        session, actor.organisation, dataset.owner_id, field="dataset_id", now=now
    )
    changed = apply_change(dataset, change, mode="json")
    if not changed:
        return dataset
    changes = {field: {"from": before, "to": after} for field, (before, after) in changed.items()}
    await session.flush()
    await audit.record(
        session, "dataset.changed", actor=actor, subject=dataset.id, now=now, changes=changes
    )
    return dataset


async def publish_dataset(
    session: AsyncSession, dataset_id: str, *, actor: Actor, now: datetime
) -> Dataset:
    """A draft entry (from an approved demand) enters the catalog once its owner has described
    it; publishing a published dataset changes nothing."""
    dataset = await get_dataset(session, dataset_id)
    await require_jurisdiction(
        session, actor.organisation, dataset.owner_id, field="dataset_id", now=now
    )
    if dataset.status == DatasetStatus.published:
        return dataset
    if not dataset.fields:
        raise DraftIncomplete(
            f"fields: describe '{dataset.id}' (its fields, grade and attributes) before "
            "publishing it",
            detail_zh=f"fields: 请先补充数据资源“{dataset.id}”的数据项、分级和目录属性，再行发布",
            field="fields",
        )
    dataset.status = DatasetStatus.published
    dataset.updated_at = now
    await session.flush()
    await audit.record(
        session, "dataset.published", actor=actor, subject=dataset.id, now=now,
        grade=dataset.grade, fields=[f["name"] for f in dataset.fields],
    )  # fmt: skip
    return dataset
