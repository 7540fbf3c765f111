"""All SQL of OAuth clients."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models.grants import Grant
from core.models.oauth import OAuthClient
from core.models.requests import DataRequest

# A grant with the trace context of the request that produced it.
TracedGrant = tuple[Grant, str, str]


async def locked_client(session: AsyncSession, client_id: str) -> OAuthClient | None:
    """The client, its row locked until the transaction ends."""
    return await session.get(OAuthClient, client_id, with_for_update=True)


async def client_with_grants(
    session: AsyncSession, client_id: str, dataset_ids: Sequence[str], *, now: datetime
) -> tuple[OAuthClient, list[TracedGrant]] | None:
    """The client and its organisation's grants in force at `now` for `dataset_ids`, each with
    its request's trace id and span id, in one query; the longest-running grant last."""
    query = select(OAuthClient).where(OAuthClient.id == client_id)
    if dataset_ids:
        query = (
            query.add_columns(Grant, DataRequest.trace_id, DataRequest.span_id)
            .outerjoin(
                Grant,
                and_(
                    Grant.grantee_id == OAuthClient.organisation_id,
                    Grant.dataset_id.in_(dataset_ids),
                    Grant.status == "active",
                    Grant.starts_at <= now,
                    Grant.ends_at > now,
                ),
            )
            .outerjoin(DataRequest, DataRequest.id == Grant.request_id)
            .order_by(Grant.ends_at)
        )
    rows: list[Any] = list((await session.execute(query)).all())  # add_columns() widens them
    if not rows:
        return None
    if not dataset_ids:
        return rows[0][0], []
    return rows[0][0], [(g, trace, span) for _, g, trace, span in rows if g is not None]
