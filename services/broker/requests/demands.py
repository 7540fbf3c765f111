"""What an approved demand (需求) becomes: a draft catalog entry owned by the provider that
accepted it. The grant follows once the provider describes the dataset and publishes it
(`publication/`, `POST /v1/datasets/{id}/publish`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.audit.actor import Actor
from broker.grants.service import issue_grant
from broker.requests.repository import routes
from core.models.catalog import Dataset, DatasetStatus, SharingClass
from core.models.grants import Grant
from core.models.requests import DataRequest

_NAME_LENGTH = 200


def draft_id(request: DataRequest) -> str:
    """The draft entry's id: the provider's and the demand's, within the catalog's id rules."""
    return f"{request.provider_id}-demand-{request.id.split('_', 1)[-1]}"[:100]


async def draft_entry(
    session: AsyncSession, request: DataRequest, *, now: datetime, actor: Actor
) -> Dataset:
    """The catalog entry the provider must now describe (fields, grade, attributes) and
    publish; until then nobody may file a request for it."""
    assert request.description is not None
    dataset = Dataset(
        id=draft_id(request),
        name=request.description[:_NAME_LENGTH],
        name_en=f"Demand {request.id}",
        description=request.description,
        owner_id=request.provider_id,
        sharing_class=SharingClass.conditional,
        fields=[],
        status=DatasetStatus.draft,
        created_at=now,
        updated_at=now,
    )
    session.add(dataset)
    await session.flush()
    request.dataset_id = dataset.id
    await audit.record(
        session, "dataset.drafted", actor=actor, subject=dataset.id, now=now,
        owner=dataset.owner_id, demand=request.id,
    )  # fmt: skip
    return dataset


async def grant_fulfilled_demands(
    session: AsyncSession, dataset: Dataset, *, now: datetime, actor: Actor
) -> list[Grant]:
    """The grants of the approved demands a dataset now published answers: each covers the
    fields the owner published, for the period the demand asked, under the demand's decisions."""
    grants = []
    for request in await routes.approved_demands_for(session, dataset.id):
        request.granted_fields = [f["name"] for f in dataset.fields]
        request.fields = list(request.granted_fields)
        request.updated_at = now
        decisions = await routes.decisions_of(session, [request.id])
        approvals = [d.id for d in decisions if d.decision == "approve"]
        grants.append(await issue_grant(session, request, approvals, now=now, actor=actor))
    return grants
