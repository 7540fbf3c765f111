"""授权管理 for the data bureau: the grants of its jurisdiction (the provider or the grantee in
it) with their uses; its operators pause, resume or revoke one. The same service as
`POST /v1/grants/{id}/pause|resume|revoke`: it lets a bureau change a grant whose provider is
in its jurisdiction, and a refusal is shown in words and changes nothing."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from broker.console import repository
from broker.console.bureau import Bureau, BureauDep, BureauFormDep
from broker.console.names import dataset_names, organisation_names
from broker.console.outcomes import outcome
from broker.console.refusals import Refused
from broker.console.web import language, render
from broker.grants import service as grants
from broker.grants.shown import shown
from broker.kit.deps import RedisDep, SessionDep
from broker.oauth.scopes import Scope
from core.clock import utcnow
from core.events import GrantEventName

router = APIRouter()

MAX_GRANTS = 300
ACTIONS = {
    "pause": GrantEventName.paused,
    "resume": GrantEventName.resumed,
    "revoke": GrantEventName.revoked,
}


async def _page(
    request: Request,
    session: SessionDep,
    redis: Redis | None,
    bureau: Bureau,
    *,
    status: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    lang = language(request)
    rows = await repository.grants_in(session, bureau.covered, status=status, limit=MAX_GRANTS)
    return render(
        request,
        "bureau_grants.html",
        status_code=status_code,
        me=bureau.me,
        grants=await shown(session, redis, rows),
        may_change=bureau.may(Scope.grants_revoke),
        covered=bureau.covered,
        names=await organisation_names(
            session, [g.grantee_id for g in rows] + [g.provider_id for g in rows], lang
        ),
        datasets=await dataset_names(session, [g.dataset_id for g in rows], lang),
        error=error,
    )


@router.get("/bureau/grants")
async def bureau_grants(
    request: Request,
    session: SessionDep,
    redis: RedisDep,
    bureau: BureauDep,
    status: Literal["active", "paused", "revoked", "expired"] | None = None,
) -> HTMLResponse:
    return await _page(request, session, redis, bureau, status=status)


@router.post("/bureau/grants/{grant_id}/{action}")
async def change(
    request: Request,
    session: SessionDep,
    redis: RedisDep,
    bureau: BureauFormDep,
    grant_id: str,
    action: Literal["pause", "resume", "revoke"],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    changing = _changing(session, bureau, grant_id, action, reason)
    again = partial(_page, request, session, redis, bureau)
    done = f"/console/bureau/grants?done={action}#{grant_id}"
    return await outcome(request, session, changing, again, done)


async def _changing(
    session: AsyncSession, bureau: Bureau, grant_id: str, action: str, reason: str
) -> None:
    if not bureau.may(Scope.grants_revoke):
        raise Refused("not_an_operator", status=403)
    if action == "revoke" and len(reason.strip()) < 2:
        raise Refused("revoke_reason_required")
    await grants.change_grant(
        session, grant_id, actor=bureau.me.actor, action=ACTIONS[action],
        reason=reason.strip() or None, now=utcnow(),
    )  # fmt: skip
