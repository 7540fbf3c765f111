"""Directory rules: organisations, the one-active-CDO rule, delegations. Services only flush."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.directory import repository
from broker.directory.exceptions import (
    AppointmentNotFound,
    AppointmentOverlaps,
    InvalidDirectoryChange,
    NoActiveCDO,
    NotYourCDO,
    OrganisationExists,
    OrganisationNotFound,
)
from broker.directory.models import Appointment, Delegation, Organisation, OrgKind
from broker.directory.schemas import (
    AppointmentIn,
    CDOSummary,
    DelegationIn,
    OrganisationIn,
    OrganisationOut,
)
from broker.kit.ids import new_id
from broker.oauth.principal import insufficient_scope
from broker.oauth.scopes import Scope


def to_out(org: Organisation, cdo: Appointment | None) -> OrganisationOut:
    return OrganisationOut(
        id=org.id,
        name=org.name,
        name_en=org.name_en,
        kind=OrgKind(org.kind),
        level=org.level,  # type: ignore[arg-type]
        division_code=org.division_code,
        government_id=org.government_id,
        parent_id=org.parent_id,
        pilot=org.pilot,
        cdo=CDOSummary.model_validate(cdo) if cdo else None,
    )


async def get_organisation(session: AsyncSession, organisation_id: str) -> Organisation:
    org = await session.get(Organisation, organisation_id)
    if org is None:
        raise OrganisationNotFound(organisation_id)
    return org


async def describe(
    session: AsyncSession, orgs: Sequence[Organisation], moment: datetime
) -> list[OrganisationOut]:
    active = await repository.active_appointments(session, [o.id for o in orgs], moment)
    return [to_out(org, active.get(org.id)) for org in orgs]


async def create_organisation(session: AsyncSession, data: OrganisationIn) -> Organisation:
    if await session.get(Organisation, data.id) is not None:
        raise OrganisationExists(f"organisation '{data.id}' exists", field="id")
    for field in ("government_id", "parent_id"):
        ref = getattr(data, field)
        if ref is not None and await session.get(Organisation, ref) is None:
            raise InvalidDirectoryChange(f"{field}: no organisation '{ref}'", field=field)
    org = Organisation(**data.model_dump())
    session.add(org)
    await session.flush()
    return org


async def appoint(session: AsyncSession, data: AppointmentIn, *, created_by: str) -> Appointment:
    """Files a CDO appointment. A body has at most one CDO at any moment, so windows may not
    overlap; a successor names the appointment it `replaces`, which then ends at its start."""
    if await repository.lock_organisation(session, data.organisation_id) is None:
        raise OrganisationNotFound(data.organisation_id)
    bureau = await session.get(Organisation, data.filed_with_id)
    if bureau is None or bureau.kind != OrgKind.data_bureau:
        raise InvalidDirectoryChange(
            f"filed_with_id: '{data.filed_with_id}' is not a data bureau", field="filed_with_id"
        )
    if data.replaces is not None:
        await _end_replaced(session, data)
    clashes = await repository.overlapping_appointments(
        session, data.organisation_id, data.starts_at, data.ends_at
    )
    if clashes:
        raise AppointmentOverlaps(
            f"'{data.organisation_id}' already has a CDO in that period "
            f"(appointment {clashes[0].id}); end it first or name it in 'replaces'",
            conflicting_appointment_id=clashes[0].id,
        )
    appointment = Appointment(
        id=new_id("apt"),
        created_by_org_id=created_by,
        **data.model_dump(exclude={"replaces"}),
    )
    session.add(appointment)
    await session.flush()
    await audit.record(
        session, "cdo.appointed", actor=created_by, subject=appointment.id,
        organisation=appointment.organisation_id, person=appointment.person_name,
        replaces=data.replaces,
    )  # fmt: skip
    return appointment


async def _end_replaced(session: AsyncSession, data: AppointmentIn) -> None:
    replaced = await session.get(Appointment, data.replaces)
    if replaced is None or replaced.organisation_id != data.organisation_id:
        raise InvalidDirectoryChange(
            f"replaces: '{data.replaces}' is not an appointment of '{data.organisation_id}'",
            field="replaces",
        )
    if replaced.starts_at >= data.starts_at:
        raise InvalidDirectoryChange(
            "starts_at: a successor starts after the appointment it replaces", field="starts_at"
        )
    if replaced.ends_at is None or replaced.ends_at > data.starts_at:
        replaced.ends_at = data.starts_at
        replaced.end_reason = f"succeeded by {data.person_name}"
    await session.flush()


async def end_appointment(
    session: AsyncSession, appointment_id: str, *, ends_at: datetime, reason: str
) -> Appointment:
    appointment = await session.get(Appointment, appointment_id)
    if appointment is None:
        raise AppointmentNotFound(appointment_id)
    await repository.lock_organisation(session, appointment.organisation_id)
    if ends_at <= appointment.starts_at:
        raise InvalidDirectoryChange(
            "ends_at: must be after the appointment starts", field="ends_at"
        )
    if appointment.ends_at is not None and appointment.ends_at <= ends_at:
        raise InvalidDirectoryChange(
            f"ends_at: the appointment already ends at {appointment.ends_at.isoformat()}",
            field="ends_at",
        )
    appointment.ends_at = ends_at
    appointment.end_reason = reason
    await session.flush()
    await audit.record(
        session, "cdo.appointment_ended", actor=None, subject=appointment.id,
        organisation=appointment.organisation_id, reason=reason,
    )  # fmt: skip
    return appointment


async def delegate(
    session: AsyncSession,
    data: DelegationIn,
    *,
    caller_org_id: str,
    caller_scopes: frozenset[str],
    now: datetime,
) -> Delegation:
    caller_is_admin = Scope.directory_admin.value in caller_scopes
    if not caller_is_admin and Scope.approvals_decide.value not in caller_scopes:
        raise insufficient_scope(
            Scope.approvals_decide,
            "delegating needs 'approvals:decide' (the CDO's own system) or 'directory:admin'",
        )
    organisation_id = data.organisation_id or caller_org_id
    if organisation_id != caller_org_id and not caller_is_admin:
        raise NotYourCDO(
            "only the body's own CDO (or a directory admin) may delegate its decisions",
            field="organisation_id",
        )
    await get_organisation(session, organisation_id)
    delegate_org_id = data.delegate_org_id or organisation_id
    if delegate_org_id != organisation_id:
        await get_organisation(session, delegate_org_id)
    active = await repository.active_appointments(session, [organisation_id], now)
    appointment = active.get(organisation_id)
    if appointment is None:
        raise NoActiveCDO(
            f"'{organisation_id}' has no active CDO to delegate", field="organisation_id"
        )
    if appointment.ends_at is not None and data.ends_at > appointment.ends_at:
        raise InvalidDirectoryChange(
            "ends_at: a delegation cannot outlast the CDO's appointment", field="ends_at"
        )
    delegation = Delegation(
        id=new_id("dlg"),
        appointment_id=appointment.id,
        delegate_name=data.delegate_name,
        delegate_title=data.delegate_title,
        delegate_org_id=delegate_org_id,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        reason=data.reason,
    )
    session.add(delegation)
    await session.flush()
    await audit.record(
        session, "cdo.delegated", actor=caller_org_id, subject=delegation.id, now=now,
        organisation=organisation_id, delegate=delegation.delegate_name,
        delegate_org=delegate_org_id,
    )  # fmt: skip
    return delegation
