"""Directory API: organisations, CDO appointments and delegations. Thin: rules live in service."""

from __future__ import annotations

from fastapi import APIRouter, status

from broker.directory import delegations as delegation_service
from broker.directory import repository, roster, service
from broker.directory.filing import FilingState
from broker.directory.schemas import (
    AppointmentOut,
    CdoRoster,
    DelegationIn,
    DelegationOut,
    DelegationRevokeIn,
    OrganisationChange,
    OrganisationIn,
    OrganisationOut,
)
from broker.kit.deps import SessionDep
from broker.kit.pagination import CursorQuery, LimitQuery, Page, fetch, page_of
from broker.kit.problem_docs import problems
from broker.oauth.principal import CallerDep, DirectoryAdminDep
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
        **fetch(cursor, limit),
    )
    return page_of(await service.describe(session, orgs[:limit], utcnow()), orgs, limit)


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


@router.get(
    "/organisations/{organisation_id}/cdo-roster",
    summary="The CDOs of a jurisdiction and their filing (备案) state",
    responses=problems(403, 404),
)
async def cdo_roster(
    organisation_id: str,
    session: SessionDep,
    caller: CallerDep,
    pilot: bool | None = None,
    filing_state: FilingState | None = None,
) -> CdoRoster:
    """For a government or its data bureau: that government and every body under it; for a
    department: itself. Only bodies inside the caller's jurisdiction are listed, and the body
    named must be one (403 `outside-jurisdiction`)."""
    return await roster.cdo_roster(
        session,
        organisation_id,
        caller_id=caller.organisation_id,
        now=utcnow(),
        pilot=pilot,
        state=filing_state,
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
