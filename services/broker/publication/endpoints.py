"""Publishing a catalog entry an approved demand drafted (the catalog's API, under its tag): the
catalog publishes the entry (catalog.service), and the demands it answers are granted in the
same transaction (requests.demands).

Its own package because it joins two domains: the catalog knows nothing of requests (pyproject's
import contracts), as `appointments/` joins the directory and requests."""

from __future__ import annotations

from fastapi import APIRouter

from broker.catalog import service
from broker.catalog.schemas import DatasetOut
from broker.kit.deps import SessionDep
from broker.kit.problem_docs import problems
from broker.oauth.principal import CatalogAdminDep
from broker.requests.demands import grant_fulfilled_demands
from core.clock import utcnow

router = APIRouter(prefix="/v1", tags=["catalog"])


@router.post(
    "/datasets/{dataset_id}/publish",
    summary="Publish a draft entry (from an approved demand) owned in your jurisdiction",
    description="A demand approved by its provider drafts a catalog entry; once the owner has "
    "described it (`PATCH /v1/datasets/{id}`: fields, grade, attributes), publishing it makes it "
    "requestable and issues the grant each approved demand for it awaited. Publishing again "
    "changes nothing.",
    responses=problems(404, 422),
)
async def publish(dataset_id: str, session: SessionDep, admin: CatalogAdminDep) -> DatasetOut:
    now = utcnow()
    dataset = await service.publish_dataset(session, dataset_id, actor=admin.actor, now=now)
    await grant_fulfilled_demands(session, dataset, now=now, actor=admin.actor)
    return DatasetOut.model_validate(dataset)
