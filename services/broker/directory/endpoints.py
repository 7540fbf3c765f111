"""Directory API: organisations, CDO appointments and delegations. Thin: rules live in service."""

from __future__ import annotations

from fastapi import APIRouter, status

from broker.directory import repository, service
from broker.directory.models import Level, OrgKind
from broker.directory.schemas import (
    AppointmentEnd,
    AppointmentIn,
    AppointmentOut,
    DelegationIn,
    DelegationOut,
    OrganisationIn,
    OrganisationOut,
)
from broker.kit.clock import utcnow
from broker.kit.db import SessionDep
from broker.kit.pagination import CursorQuery, LimitQuery, Page, decode_cursor, next_cursor
from broker.kit.problem_docs import problems
from broker.oauth.principal import CallerDep, DirectoryAdminDep

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
    summary="Add a body",
    responses=problems(409),
)
async def create_organisation(
    body: OrganisationIn, session: SessionDep, _admin: DirectoryAdminDep
) -> OrganisationOut:
    org = await service.create_organisation(session, body)
    return service.to_out(org, None)


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
    summary="File a CDO appointment",
    responses=problems(404, 409),
)
async def appoint(
    body: AppointmentIn, session: SessionDep, admin: DirectoryAdminDep
) -> AppointmentOut:
    appointment = await service.appoint(session, body, created_by=admin.organisation_id)
    return AppointmentOut.model_validate(appointment)


@router.post("/appointments/{appointment_id}/end", summary="End a CDO appointment")
async def end_appointment(
    appointment_id: str, body: AppointmentEnd, session: SessionDep, _admin: DirectoryAdminDep
) -> AppointmentOut:
    appointment = await service.end_appointment(
        session, appointment_id, ends_at=body.ends_at or utcnow(), reason=body.reason
    )
    return AppointmentOut.model_validate(appointment)


@router.post(
    "/delegations",
    status_code=status.HTTP_201_CREATED,
    summary="Delegate decisions",
    responses=problems(403, 404),
)
async def delegate(body: DelegationIn, session: SessionDep, caller: CallerDep) -> DelegationOut:
    delegation = await service.delegate(
        session,
        body,
        caller_org_id=caller.organisation_id,
        caller_scopes=caller.scopes,
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
