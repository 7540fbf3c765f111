"""Grants API: grantees and providers read the grants that concern them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends

from broker.grants import service
from broker.grants.schemas import GrantOut
from broker.kit.db import SessionDep
from broker.kit.pagination import CursorQuery, LimitQuery, Page, decode_cursor, next_cursor
from broker.oauth.principal import Principal, require_scope
from broker.oauth.scopes import Scope

router = APIRouter(prefix="/v1/grants", tags=["grants"])
GrantReader = Annotated[Principal, Depends(require_scope(Scope.grants_read))]


@router.get("", summary="Grants held by or given by your organisation")
async def list_grants(
    session: SessionDep,
    caller: GrantReader,
    role: Literal["grantee", "provider"] | None = None,
    status: Literal["active", "revoked", "expired"] | None = None,
    dataset_id: str | None = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[GrantOut]:
    rows = await service.list_grants(
        session,
        org_id=caller.organisation_id,
        role=role,
        status=status,
        dataset_id=dataset_id,
        after=decode_cursor(cursor),
        limit=limit + 1,
    )
    return Page(
        items=[GrantOut.model_validate(g) for g in rows[:limit]],
        next_cursor=next_cursor([g.id for g in rows], limit),
    )


@router.get("/{grant_id}", summary="One grant")
async def get_grant(grant_id: str, session: SessionDep, caller: GrantReader) -> GrantOut:
    return GrantOut.model_validate(
        await service.visible_grant(session, grant_id, caller.organisation_id)
    )
