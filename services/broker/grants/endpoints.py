"""Grants API: grantees and providers read the grants that concern them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import Field

from broker.grants import provider_endpoints, service
from broker.grants.schemas import GrantOut
from broker.grants.shown import one_shown, shown
from broker.kit.deps import RedisDep, SessionDep
from broker.kit.inputs import Input
from broker.kit.pagination import CursorQuery, LimitQuery, Page, fetch, page_of
from broker.kit.problem_docs import problems
from broker.oauth.principal import GrantsReaderDep, Principal, require_scope
from broker.oauth.scopes import Scope
from core.clock import utcnow
from core.events import GrantEventName

router = APIRouter(prefix="/v1/grants", tags=["grants"])
router.include_router(provider_endpoints.router)  # first: `/changes` is not a grant id


@router.get("", summary="Grants held by or given by your organisation")
async def list_grants(
    session: SessionDep,
    redis: RedisDep,
    caller: GrantsReaderDep,
    role: Literal["grantee", "provider"] | None = None,
    status: Literal["active", "paused", "revoked", "expired"] | None = None,
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
        **fetch(cursor, limit),
    )
    return page_of(await shown(session, redis, rows[:limit]), rows, limit)


@router.get("/{grant_id}", summary="One grant")
async def get_grant(
    grant_id: str, session: SessionDep, redis: RedisDep, caller: GrantsReaderDep
) -> GrantOut:
    grant = await service.visible_grant(session, grant_id, caller.organisation_id)
    return await one_shown(session, redis, grant)


class GrantChangeIn(Input):
    reason: str | None = Field(default=None, max_length=2000)


class GrantRevokeIn(Input):
    reason: str = Field(min_length=2, max_length=2000, description="why: it is recorded and sent")


GrantChanger = Annotated[Principal, Depends(require_scope(Scope.grants_revoke))]
ChangeGrant = Callable[[GrantEventName, str | None], Awaitable[GrantOut]]


async def _changer(
    grant_id: str, session: SessionDep, redis: RedisDep, caller: GrantChanger
) -> ChangeGrant:
    """What a revoke, a pause and a resume share: the grant the path names, changed by the
    caller and answered as it then stands. Each route says only its action and the reason."""

    async def change(action: GrantEventName, reason: str | None) -> GrantOut:
        grant = await service.change_grant(
            session, grant_id, actor=caller.actor, action=action, reason=reason, now=utcnow()
        )
        return await one_shown(session, redis, grant)

    return change


GrantChange = Annotated[ChangeGrant, Depends(_changer)]


@router.post(
    "/{grant_id}/revoke",
    summary="Revoke a grant (provider's CDO or data bureau)",
    responses=problems(409),
)
async def revoke(body: GrantRevokeIn, change: GrantChange) -> GrantOut:
    return await change(GrantEventName.revoked, body.reason)


@router.post(
    "/{grant_id}/pause",
    summary="Pause a grant: its tokens are inactive meanwhile",
    responses=problems(409),
)
async def pause(change: GrantChange, body: GrantChangeIn | None = None) -> GrantOut:
    return await change(GrantEventName.paused, body.reason if body else None)


@router.post("/{grant_id}/resume", summary="Resume a paused grant", responses=problems(409))
async def resume(change: GrantChange, body: GrantChangeIn | None = None) -> GrantOut:
    return await change(GrantEventName.resumed, body.reason if body else None)
