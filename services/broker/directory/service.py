"""Directory rules: organisations, the one-active-CDO rule, and who may change them (each admin
write stays inside the caller's jurisdiction). Services only flush."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.audit.actor import Actor
from broker.calendar.deadlines import china_time
from broker.directory import repository
from broker.directory.exceptions import (
    AppointmentNotFound,
    AppointmentOverlaps,
    InvalidDirectoryChange,
    OrganisationExists,
    OutsideJurisdiction,
)
from broker.directory.jurisdiction import covers, covers_new_body
from broker.directory.receipts import filing_bureau_of, give_receipt
from broker.directory.schemas import (
    AppointmentIn,
    CDOSummary,
    OrganisationChange,
    OrganisationIn,
    OrganisationOut,
)
from broker.kit.changes import apply_change
from broker.kit.lookups import found
from broker.kit.problems import OrganisationNotFound
from core.ids import new_id
from core.models.directory import Appointment, Organisation, OrgKind
from core.models.people import Person


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
    return found(
        await session.get(Organisation, organisation_id), OrganisationNotFound, organisation_id
    )


async def describe(
    session: AsyncSession, orgs: Sequence[Organisation], moment: datetime
) -> list[OrganisationOut]:
    active = await repository.active_appointments(session, [o.id for o in orgs], moment)
    return [to_out(org, active.get(org.id)) for org in orgs]


async def require_jurisdiction(
    session: AsyncSession, caller_id: str, body_id: str, *, field: str, now: datetime
) -> None:
    """403 `outside-jurisdiction` unless `body_id` is inside the caller's jurisdiction."""
    if not covers(await repository.current_view(session, now), caller_id, body_id):
        raise OutsideJurisdiction(caller_id, body_id, field)


async def create_organisation(
    session: AsyncSession, data: OrganisationIn, *, actor: Actor, now: datetime
) -> Organisation:
    if await session.get(Organisation, data.id) is not None:
        raise OrganisationExists(
            f"organisation '{data.id}' exists", detail_zh=f"单位“{data.id}”已存在", field="id"
        )
    for field in ("government_id", "parent_id"):
        ref = getattr(data, field)
        if ref is not None and await session.get(Organisation, ref) is None:
            raise InvalidDirectoryChange(
                f"{field}: no organisation '{ref}'",
                detail_zh=f"{field}: 没有单位“{ref}”",
                field=field,
            )
    # A government sits under its parent; a department or bureau under its government.
    field = "parent_id" if data.kind is OrgKind.government else "government_id"
    placed_under = getattr(data, field)
    view = await repository.current_view(session, now)
    if not covers_new_body(view, actor.organisation, placed_under=placed_under):
        raise OutsideJurisdiction(
            actor.organisation, placed_under or "(the top of the directory)", field
        )
    if data.kind is OrgKind.data_bureau and (bureau := view.bureau_of_government(placed_under)):
        # Routing sends a level's steps to its one bureau: a second would take them over.
        raise OrganisationExists(
            f"government_id: '{placed_under}' already has a data bureau ('{bureau}')",
            detail_zh=f"government_id: “{placed_under}”已有政务服务数据管理局（“{bureau}”）",
            field="government_id",
        )
    org = Organisation(**data.model_dump())
    session.add(org)
    await session.flush()
    await audit.record(
        session, "organisation.created", actor=actor, subject=org.id, now=now,
        kind=org.kind, level=org.level, government=org.government_id, parent=org.parent_id,
    )  # fmt: skip
    return org


async def change_organisation(
    session: AsyncSession,
    organisation_id: str,
    change: OrganisationChange,
    *,
    actor: Actor,
    now: datetime,
) -> Organisation:
    org = await get_organisation(session, organisation_id)
    await require_jurisdiction(
        session, actor.organisation, organisation_id, field="organisation_id", now=now
    )
    changed = apply_change(org, change)
    if not changed:
        return org
    await session.flush()
    changes = {field: after for field, (_, after) in changed.items()}
    await audit.record(
        session, "organisation.changed", actor=actor, subject=org.id, now=now, changes=changes
    )
    return org


async def appoint(
    session: AsyncSession, data: AppointmentIn, *, actor: Actor, now: datetime
) -> Appointment:
    """Files a CDO appointment. A body has at most one CDO at any moment, so windows may not
    overlap; a successor names the appointment it `replaces`, which then ends at its start."""
    if await repository.lock_organisation(session, data.organisation_id) is None:
        raise OrganisationNotFound(data.organisation_id)
    await require_jurisdiction(
        session, actor.organisation, data.organisation_id, field="organisation_id", now=now
    )
    bureau = await filing_bureau_of(session, data, now)
    if data.person_id is not None:
        person = await session.get(Person, data.person_id)
        if person is None or person.organisation_id != data.organisation_id:
            raise InvalidDirectoryChange(
                f"person_id: no person '{data.person_id}' in '{data.organisation_id}'",
                detail_zh=f"person_id: “{data.organisation_id}”没有人员“{data.person_id}”",
                field="person_id",
            )
    replaced = await _end_replaced(session, data) if data.replaces is not None else None
    clashes = await repository.overlapping_appointments(
        session, data.organisation_id, data.starts_at, data.ends_at
    )
    if clashes:
        raise AppointmentOverlaps(
            f"'{data.organisation_id}' already has a CDO in that period "
            f"(appointment {clashes[0].id}); end it first or name it in 'replaces'",
            detail_zh=f"“{data.organisation_id}”在该期间已有首席数据官（任命 {clashes[0].id}）；"
            "请先免职，或在 replaces 中注明所接替的任命",
            conflicting_appointment_id=clashes[0].id,
        )
    appointment = Appointment(
        id=new_id("apt"),
        created_by_org_id=actor.org_id,
        filed_with_id=bureau.id,
        **data.model_dump(exclude={"replaces", "filed_with_id"}),
    )
    await give_receipt(session, appointment, bureau, filed_at=now)
    session.add(appointment)
    await session.flush()
    if replaced is not None:
        await audit.record(
            session, "cdo.appointment_ended", actor=actor, subject=replaced.id, now=now,
            organisation=replaced.organisation_id, ends_at=replaced.ends_at,
            reason=replaced.end_reason,
        )  # fmt: skip
    await audit.record(
        session, "cdo.appointed", actor=actor, subject=appointment.id, now=now,
        organisation=appointment.organisation_id, person=appointment.person_name,
        replaces=data.replaces, filed_with=bureau.id, filing_receipt=appointment.filing_receipt,
    )  # fmt: skip
    return appointment


async def _end_replaced(session: AsyncSession, data: AppointmentIn) -> Appointment | None:
    """The appointment `data` succeeds, ended at the successor's start; None if it already
    ended by then."""
    replaced = await session.get(Appointment, data.replaces)
    if replaced is None or replaced.organisation_id != data.organisation_id:
        raise InvalidDirectoryChange(
            f"replaces: '{data.replaces}' is not an appointment of '{data.organisation_id}'",
            detail_zh=f"replaces: “{data.replaces}”不是“{data.organisation_id}”的首席数据官任命",
            field="replaces",
        )
    if replaced.starts_at >= data.starts_at:
        raise InvalidDirectoryChange(
            "starts_at: a successor starts after the appointment it replaces",
            detail_zh="starts_at: 接任者的任期须晚于所接替的任命开始",
            field="starts_at",
        )
    if replaced.ends_at is not None and replaced.ends_at <= data.starts_at:
        return None
    replaced.ends_at = data.starts_at
    replaced.end_reason = f"succeeded by {data.person_name}"
    await session.flush()
    return replaced


async def end_appointment(
    session: AsyncSession,
    appointment_id: str,
    *,
    ends_at: datetime,
    reason: str,
    actor: Actor,
    now: datetime,
) -> Appointment:
    appointment = found(
        await session.get(Appointment, appointment_id), AppointmentNotFound, appointment_id
    )
    await repository.lock_organisation(session, appointment.organisation_id)
    await require_jurisdiction(
        session, actor.organisation, appointment.organisation_id, field="appointment_id", now=now
    )
    if ends_at <= appointment.starts_at:
        raise InvalidDirectoryChange(
            "ends_at: must be after the appointment starts",
            detail_zh="ends_at: 免职时间须晚于任命开始时间",
            field="ends_at",
        )
    if appointment.ends_at is not None and appointment.ends_at <= ends_at:
        raise InvalidDirectoryChange(
            f"ends_at: the appointment already ends at {appointment.ends_at.isoformat()}",
            detail_zh=f"ends_at: 该任命已定于{china_time(appointment.ends_at)}结束",
            field="ends_at",
        )
    appointment.ends_at = ends_at
    appointment.end_reason = reason
    await session.flush()
    await audit.record(
        session, "cdo.appointment_ended", actor=actor, subject=appointment.id, now=now,
        organisation=appointment.organisation_id, ends_at=ends_at, reason=reason,
    )  # fmt: skip
    return appointment
