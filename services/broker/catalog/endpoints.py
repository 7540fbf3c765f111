"""Catalog API: read for every client, write for catalog admins."""

from __future__ import annotations

from fastapi import APIRouter, status

from broker.catalog import service
from broker.catalog.schemas import DatasetChange, DatasetIn, DatasetOut
from broker.kit.deps import SessionDep
from broker.kit.pagination import CursorQuery, LimitQuery, Page, fetch, page_of
from broker.kit.problem_docs import problems
from broker.oauth.principal import CallerDep, CatalogAdminDep
from core.clock import utcnow
from core.models.catalog import SharingClass

router = APIRouter(prefix="/v1", tags=["catalog"])


@router.get("/datasets", summary="List datasets")
async def list_datasets(
    session: SessionDep,
    _caller: CallerDep,
    owner_id: str | None = None,
    sharing_class: SharingClass | None = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[DatasetOut]:
    rows = await service.list_datasets(
        session,
        owner_id=owner_id,
        sharing_class=sharing_class,
        **fetch(cursor, limit),
    )
    return page_of([DatasetOut.model_validate(d) for d in rows[:limit]], rows, limit)


@router.get("/datasets/{dataset_id}", summary="One dataset")
async def get_dataset(dataset_id: str, session: SessionDep, _caller: CallerDep) -> DatasetOut:
    return DatasetOut.model_validate(await service.get_dataset(session, dataset_id))


@router.post(
    "/datasets",
    status_code=status.HTTP_201_CREATED,
    summary="Add a dataset owned by a body in your jurisdiction",
    responses=problems(409),
)
async def create_dataset(
    body: DatasetIn, session: SessionDep, admin: CatalogAdminDep
) -> DatasetOut:
    dataset = await service.create_dataset(session, body, actor=admin.actor, now=utcnow())
    return DatasetOut.model_validate(dataset)


@router.patch(
    "/datasets/{dataset_id}",
    summary="Change the class, fields or names of a dataset owned in your jurisdiction",
)
async def change_dataset(
    dataset_id: str, body: DatasetChange, session: SessionDep, admin: CatalogAdminDep
) -> DatasetOut:
    dataset = await service.change_dataset(
        session, dataset_id, body, actor=admin.actor, now=utcnow()
    )
    return DatasetOut.model_validate(dataset)
