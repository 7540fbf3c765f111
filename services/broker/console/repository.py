"""The console's own reads: what only its pages ask (a bureau's jurisdiction listed, the names for
the ids a page shows, a request's clarifications in order). What the API reads too, the pages
read through the domains' services and repositories; every write goes through a domain's
service."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.kit.filters import where_given
from broker.requests.lifecycle import RequestStatus
from core.models.catalog import Dataset
from core.models.directory import Appointment, Delegation, Organisation, OrgKind
from core.models.grants import Grant
from core.models.requests import Clarification, DataRequest, StepApprover

Named = tuple[str, str, str]  # id (or division code), Chinese name, English name


async def organisations_named(session: AsyncSession, ids: set[str]) -> Sequence[Named]:
    rows = await session.execute(
        select(Organisation.id, Organisation.name, Organisation.name_en).where(
            Organisation.id.in_(ids)
        )
    )
    return [(id_, zh, en) for id_, zh, en in rows.all()]


async def datasets_named(session: AsyncSession, ids: set[str]) -> Sequence[Named]:
    rows = await session.execute(
        select(Dataset.id, Dataset.name, Dataset.name_en).where(Dataset.id.in_(ids))
    )
    return [(id_, zh, en) for id_, zh, en in rows.all()]


async def governments_of_province(session: AsyncSession, division_code: str) -> Sequence[Named]:
    """The governments in `division_code`'s province, as (division code, names), in code order."""
    rows = await session.execute(
        select(Organisation.division_code, Organisation.name, Organisation.name_en)
        .where(
            Organisation.kind == OrgKind.government,
            Organisation.division_code.startswith(division_code[:2]),
        )
        .order_by(Organisation.division_code)
    )
    return [(code, zh, en) for code, zh, en in rows.all()]


async def decides_a_step(session: AsyncSession, request_id: str, among: Iterable[str]) -> bool:
    """Whether a body among `among` decides (or decided) one of the request's steps."""
    deciding = await session.scalar(
        select(StepApprover.id)
        .where(StepApprover.request_id == request_id, StepApprover.organisation_id.in_(among))
        .limit(1)
    )
    return deciding is not None


async def pending_in(
    session: AsyncSession, covered: frozenset[str], *, limit: int
) -> Sequence[DataRequest]:
    """The pending requests whose requester, provider or a current approver is in `covered`,
    oldest first."""
    deciding = select(StepApprover.request_id).where(
        StepApprover.organisation_id.in_(covered), StepApprover.replaced_at.is_(None)
    )
    return (
        await session.scalars(
            select(DataRequest)
            .where(
                DataRequest.status == RequestStatus.pending,
                or_(
                    DataRequest.requester_id.in_(covered),
                    DataRequest.provider_id.in_(covered),
                    DataRequest.id.in_(deciding),
                ),
            )
            .order_by(DataRequest.created_at)
            .limit(limit)
        )
    ).all()


async def clarifications_of(session: AsyncSession, request_id: str) -> Sequence[Clarification]:
    return (
        await session.scalars(
            select(Clarification)
            .where(Clarification.request_id == request_id)
            .order_by(Clarification.asked_at, Clarification.id)
        )
    ).all()


async def grants_in(
    session: AsyncSession, covered: frozenset[str], *, status: str | None, limit: int
) -> Sequence[Grant]:
    """The grants whose provider or grantee is in `covered`, newest first."""
    query = (
        select(Grant)
        .where(or_(Grant.provider_id.in_(covered), Grant.grantee_id.in_(covered)))
        .order_by(Grant.id.desc())
        .limit(limit)
    )
    query = where_given(query, (Grant.status, status))
    return (await session.scalars(query)).all()


async def appointments_in(
    session: AsyncSession, covered: frozenset[str], *, ended_since: datetime
) -> Sequence[Appointment]:
    """The appointments of the bodies in `covered` in office or ended since `ended_since`."""
    return (
        await session.scalars(
            select(Appointment)
            .where(
                Appointment.organisation_id.in_(covered),
                or_(Appointment.ends_at.is_(None), Appointment.ends_at > ended_since),
            )
            .order_by(Appointment.organisation_id, Appointment.starts_at.desc())
        )
    ).all()


async def delegations_in_force(
    session: AsyncSession, covered: frozenset[str], now: datetime
) -> Sequence[tuple[Delegation, Appointment]]:
    """The delegations in force of appointments of the bodies in `covered`, soonest ending first."""
    rows = await session.execute(
        select(Delegation, Appointment)
        .join(Appointment, Delegation.appointment_id == Appointment.id)
        .where(
            Appointment.organisation_id.in_(covered),
            Delegation.revoked_at.is_(None),
            Delegation.ends_at > now,
        )
        .order_by(Delegation.ends_at)
    )
    return [(delegation, appointment) for delegation, appointment in rows.all()]
