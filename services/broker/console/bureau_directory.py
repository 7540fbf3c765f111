"""任免与授权委托 for the data bureau: the CDO appointments of the bodies in its jurisdiction
(those in office, and those that ended in the last year) and the delegations in force; its
operators end an appointment (免职: the body's open steps pass to its level's bureau at once, as
`POST /v1/appointments/{id}/end` does) or revoke a delegation. The directory's services decide,
with their jurisdiction rules; a refusal is shown in words and changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from broker.appointments import service as appointments
from broker.console import repository
from broker.console.bureau import Bureau, BureauDep, BureauFormDep
from broker.console.names import organisation_names
from broker.console.outcomes import outcome
from broker.console.refusals import Refused
from broker.console.session import role_scopes
from broker.console.web import language, render
from broker.directory import delegations
from broker.kit.deps import SessionDep
from broker.oauth.scopes import Scope
from broker.requests.dependencies import LinksDep, PolicyDep
from broker.requests.links import Links
from broker.routing.policy import Policy
from core.clock import utcnow

router = APIRouter()

ENDED_SHOWN = timedelta(days=365)


async def _page(
    request: Request,
    session: SessionDep,
    bureau: Bureau,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    now = utcnow()
    appointments = await repository.appointments_in(
        session, bureau.covered, ended_since=now - ENDED_SHOWN
    )
    in_force = await repository.delegations_in_force(session, bureau.covered, now)
    orgs = [a.organisation_id for a in appointments] + [
        org for d, a in in_force for org in (a.organisation_id, d.delegate_org_id)
    ]
    return render(
        request,
        "bureau_directory.html",
        status_code=status_code,
        me=bureau.me,
        appointments=appointments,
        delegations=in_force,
        now=now,
        may_admin=bureau.may(Scope.directory_admin),
        names=await organisation_names(session, orgs, language(request)),
        error=error,
    )


async def _outcome(
    request: Request, session: AsyncSession, bureau: Bureau, act: Awaitable[object], done: str
) -> Response:
    """What a form of this page comes to (outcomes.py): done, the page saying `done`; refused,
    the page again with the refusal in words."""
    again = partial(_page, request, session, bureau)
    return await outcome(request, session, act, again, f"/console/bureau/directory?done={done}")


@router.get("/bureau/directory")
async def directory_page(request: Request, session: SessionDep, bureau: BureauDep) -> HTMLResponse:
    return await _page(request, session, bureau)


@router.post("/bureau/appointments/{appointment_id}/end")
async def end_appointment(
    request: Request,
    session: SessionDep,
    bureau: BureauFormDep,
    policy: PolicyDep,
    links: LinksDep,
    appointment_id: str,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    ending = _ending(session, bureau, appointment_id, reason, policy, links)
    return await _outcome(request, session, bureau, ending, done="ended")


async def _ending(
    session: AsyncSession,
    bureau: Bureau,
    appointment_id: str,
    reason: str,
    policy: Policy,
    links: Links,
) -> None:
    now = utcnow()
    if not bureau.may(Scope.directory_admin):
        raise Refused("not_an_operator", status=403)
    if not reason.strip():
        raise Refused("end_reason_required")
    await appointments.end_appointment(
        session, appointment_id, ends_at=now, reason=reason.strip(), actor=bureau.me.actor,
        policy=policy, links=links, now=now,
    )  # fmt: skip


@router.post("/bureau/delegations/{delegation_id}/revoke")
async def revoke_delegation(
    request: Request,
    session: SessionDep,
    bureau: BureauFormDep,
    delegation_id: str,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    revoking = delegations.revoke(
        session, delegation_id, reason=reason.strip() or None, actor=bureau.me.actor,
        scopes=role_scopes(bureau.me.person.role), now=utcnow(),
    )  # fmt: skip
    return await _outcome(request, session, bureau, revoking, done="revoked")
