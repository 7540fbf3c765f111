"""Issuing and reading grants. An approved request yields exactly one grant."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.events import GrantEvent, GrantEventName, ce_type
from broker.grants.models import Grant
from broker.kit.ids import new_id
from broker.kit.problems import NotFound
from broker.outbox import topics
from broker.outbox.service import record_event
from broker.requests.models import DataRequest


class GrantNotFound(NotFound):
    def __init__(self, grant_id: str) -> None:
        super().__init__(f"no grant '{grant_id}' visible to you", grant_id=grant_id)


def scope_for(dataset_id: str) -> str:
    return f"dataset:{dataset_id}:read"


async def issue_grant(
    session: AsyncSession, request: DataRequest, decision_ids: Sequence[str], *, now: datetime
) -> Grant:
    grant = Grant(
        id=new_id("grt"),
        request_id=request.id,
        grantee_id=request.requester_id,
        provider_id=request.provider_id,
        dataset_id=request.dataset_id,
        fields=list(request.granted_fields),
        purpose=request.purpose,
        jurisdiction=request.jurisdiction,
        scope=scope_for(request.dataset_id),
        starts_at=request.granted_start,
        ends_at=request.granted_end,
        status="active",
        decision_ids=list(decision_ids),
        created_at=now,
    )
    session.add(grant)
    await session.flush()
    await grant_event(session, grant, GrantEventName.issued, request=request, now=now)
    return grant


async def grant_event(
    session: AsyncSession,
    grant: Grant,
    name: GrantEventName,
    *,
    request: DataRequest,
    now: datetime,
    reason: str | None = None,
) -> None:
    event = GrantEvent(
        event=name,
        grant_id=grant.id,
        request_id=grant.request_id,
        grantee_id=grant.grantee_id,
        provider_id=grant.provider_id,
        dataset_id=grant.dataset_id,
        fields=list(grant.fields),
        scope=grant.scope,
        starts_at=grant.starts_at,
        ends_at=grant.ends_at,
        status=grant.status,
        decision_ids=list(grant.decision_ids),
        trace_id=request.trace_id,
        occurred_at=now,
        reason=reason,
    )
    await record_event(
        session,
        topic=topics.GRANTS,
        key=grant.id,
        type=ce_type("grant", name.value),
        subject=grant.request_id,
        data=event.model_dump(mode="json"),
        traceparent=f"00-{request.trace_id}-{request.span_id}-01",
    )


async def visible_grant(session: AsyncSession, grant_id: str, org_id: str) -> Grant:
    grant = await session.scalar(
        select(Grant).where(
            Grant.id == grant_id, or_(Grant.grantee_id == org_id, Grant.provider_id == org_id)
        )
    )
    if grant is None:
        raise GrantNotFound(grant_id)
    return grant


async def list_grants(
    session: AsyncSession,
    *,
    org_id: str,
    role: str | None,
    status: str | None,
    dataset_id: str | None,
    after: str | None,
    limit: int,
) -> Sequence[Grant]:
    query = select(Grant).order_by(Grant.id.desc()).limit(limit)
    if role == "grantee":
        query = query.where(Grant.grantee_id == org_id)
    elif role == "provider":
        query = query.where(Grant.provider_id == org_id)
    else:
        query = query.where(or_(Grant.grantee_id == org_id, Grant.provider_id == org_id))
    if status is not None:
        query = query.where(Grant.status == status)
    if dataset_id is not None:
        query = query.where(Grant.dataset_id == dataset_id)
    if after is not None:
        query = query.where(Grant.id < after)
    return (await session.scalars(query)).all()
