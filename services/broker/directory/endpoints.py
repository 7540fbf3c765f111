"""Directory API: organisations, CDO appointments and delegations. Thin: rules live in service."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, status

from broker.directory import delegations as delegation_service
from broker.directory import repository, service
from broker.directory.schemas import (
    AppointmentEnd,
    AppointmentIn,
    AppointmentOut,
    DelegationIn,
    DelegationOut,
    DelegationRevokeIn,
    OrganisationChange,
    OrganisationIn,
    OrganisationOut,
)
from broker.kit.deps import SessionDep
from broker.kit.pagination import CursorQuery, LimitQuery, Page, decode_cursor, next_cursor
from broker.kit.problem_docs import problems
from broker.oauth.principal import CallerDep, DirectoryAdminDep, Principal
from broker.requests.handover import hand_over_steps_of
from broker.requests.links import Links
from core.clock import utcnow
from core.models.directory import Level, OrgKind

router = APIRouter(prefix="/v1", tags=["directory"])


@router.get("/organisations", summary="List organisations")
async def list_organisations(
    session: SessionDep,
    _caller: CallerDep,
    level: Level | None = None,
    kind: OrgKind | None = None,
    parent_id: str | None = None,
    government_id: str | None = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[OrganisationOut]:
    orgs = await repository.list_organisations(
        session,
        level=level,
        kind=kind,
        parent_id=parent_id,
        government_id=government_id,
        after=decode_cursor(cursor),
        limit=limit + 1,
    )
    items = await service.describe(session, orgs[:limit], utcnow())
    return Page(items=items, next_cursor=next_cursor([o.id for o in orgs], limit))


@router.get("/organisations/{organisation_id}", summary="One organisation and its active CDO")
async def get_organisation(
    organisation_id: str, session: SessionDep, _caller: CallerDep
) -> OrganisationOut:
    org = await service.get_organisation(session, organisation_id)
    return (await service.describe(session, [org], utcnow()))[0]


@router.post(
    "/organisations",
    status_code=status.HTTP_201_CREATED,
    summary="Add a body (below a government in your jurisdiction)",
    responses=problems(409),
)
async def create_organisation(
    body: OrganisationIn, session: SessionDep, admin: DirectoryAdminDep
) -> OrganisationOut:
    org = await service.create_organisation(session, body, actor=admin.actor, now=utcnow())
    return service.to_out(org, None)


@router.patch(
    "/organisations/{organisation_id}",
    summary="Rename a body in your jurisdiction, or change its division code or pilot flag",
)
async def change_organisation(
    organisation_id: str, body: OrganisationChange, session: SessionDep, admin: DirectoryAdminDep
) -> OrganisationOut:
    now = utcnow()
    org = await service.change_organisation(
        session, organisation_id, body, actor=admin.actor, now=now
    )
    return (await service.describe(session, [org], now))[0]


@router.get(
    "/organisations/{organisation_id}/appointments", summary="CDO appointment history of a body"
)
async def appointment_history(
    organisation_id: str, session: SessionDep, _caller: CallerDep
) -> list[AppointmentOut]:
    await service.get_organisation(session, organisation_id)
    history = await repository.appointment_history(session, organisation_id)
    return [AppointmentOut.model_validate(a) for a in history]


@router.post(
    "/appointments",
    status_code=status.HTTP_201_CREATED,
    summary="File a CDO appointment for a body in your jurisdiction",
    responses=problems(404, 409),
)
async def appoint(
    body: AppointmentIn, http: Request, session: SessionDep, admin: DirectoryAdminDep
) -> AppointmentOut:
    now = utcnow()
    appointment = await service.appoint(session, body, actor=admin.actor, now=now)
    await _hand_over(http, session, admin, appointment.organisation_id, now)
    return AppointmentOut.model_validate(appointment)


@router.post(
    "/appointments/{appointment_id}/end",
    summary="End a CDO appointment of a body in your jurisdiction",
)
async def end_appointment(
    appointment_id: str,
    body: AppointmentEnd,
    http: Request,
    session: SessionDep,
    admin: DirectoryAdminDep,
) -> AppointmentOut:
    """An appointment that ends now (the default) hands the body's open steps to its level's
    data bureau at once; one ending later hands them over when it ends (the SLA job)."""
    now = utcnow()
    appointment = await service.end_appointment(
        session,
        appointment_id,
        ends_at=body.ends_at or now,
        reason=body.reason,
        actor=admin.actor,
        now=now,
    )
    await _hand_over(http, session, admin, appointment.organisation_id, now)
    return AppointmentOut.model_validate(appointment)


async def _hand_over(
    http: Request, session: SessionDep, admin: Principal, organisation_id: str, now: datetime
) -> None:
    """A body left without a CDO in office: its open steps pass on in this transaction."""
    await hand_over_steps_of(
        session,
        organisation_id,
        policy=http.app.state.routing_policy,
        now=now,
        links=Links.of(http.app.state.settings),
        actor=admin.organisation_id,
    )


@router.post(
    "/delegations",
    status_code=status.HTTP_201_CREATED,
    summary="Delegate a CDO's decisions to a deputy for a bounded window",
    responses=problems(403, 404),
)
async def delegate(body: DelegationIn, session: SessionDep, caller: CallerDep) -> DelegationOut:
    delegation = await delegation_service.delegate(
        session, body, actor=caller.actor, scopes=caller.scopes, now=utcnow()
    )
    return DelegationOut.model_validate(delegation)


@router.post(
    "/delegations/{delegation_id}/revoke",
    summary="End a delegation at once",
    responses=problems(403, 409),
)
async def revoke_delegation(
    delegation_id: str,
    session: SessionDep,
    caller: CallerDep,
    body: DelegationRevokeIn | None = None,
) -> DelegationOut:
    delegation, _ = await delegation_service.revoke(
        session,
        delegation_id,
        reason=body.reason if body else None,
        actor=caller.actor,
        scopes=caller.scopes,
        now=utcnow(),
    )
    return DelegationOut.model_validate(delegation)


@router.get("/organisations/{organisation_id}/delegations", summary="Delegations of a body's CDOs")
async def delegations(
    organisation_id: str, session: SessionDep, _caller: CallerDep
) -> list[DelegationOut]:
    await service.get_organisation(session, organisation_id)
    return [
        DelegationOut.model_validate(d)
        for d in await repository.delegations_of(session, organisation_id)
    ]
