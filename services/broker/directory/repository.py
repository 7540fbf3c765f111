"""All SQL of the directory."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.directory.models import Appointment, Delegation, Organisation


async def list_organisations(
    session: AsyncSession,
    *,
    level: str | None,
    kind: str | None,
    parent_id: str | None,
    government_id: str | None,
    after: str | None,
    limit: int,
) -> Sequence[Organisation]:
    query = select(Organisation).order_by(Organisation.id).limit(limit)
    if level is not None:
        query = query.where(Organisation.level == level)
    if kind is not None:
        query = query.where(Organisation.kind == kind)
    if parent_id is not None:
        query = query.where(Organisation.parent_id == parent_id)
    if government_id is not None:
        query = query.where(Organisation.government_id == government_id)
    if after is not None:
        query = query.where(Organisation.id > after)
    return (await session.scalars(query)).all()


def _active_at(moment: datetime) -> list[ColumnElement[bool]]:
    return [
        Appointment.starts_at <= moment,
        or_(Appointment.ends_at.is_(None), Appointment.ends_at > moment),
    ]


async def active_appointments(
    session: AsyncSession, organisation_ids: Sequence[str], moment: datetime
) -> dict[str, Appointment]:
    if not organisation_ids:
        return {}
    query = select(Appointment).where(
        Appointment.organisation_id.in_(organisation_ids), *_active_at(moment)
    )
    return {a.organisation_id: a for a in await session.scalars(query)}


async def appointment_history(session: AsyncSession, organisation_id: str) -> Sequence[Appointment]:
    query = (
        select(Appointment)
        .where(Appointment.organisation_id == organisation_id)
        .order_by(Appointment.starts_at, Appointment.id)
    )
    return (await session.scalars(query)).all()


async def lock_organisation(session: AsyncSession, organisation_id: str) -> Organisation | None:
    """Serialises appointment changes per body (SELECT ... FOR UPDATE; SQLite locks the file)."""
    query = select(Organisation).where(Organisation.id == organisation_id).with_for_update()
    return await session.scalar(query)


async def overlapping_appointments(
    session: AsyncSession,
    organisation_id: str,
    starts_at: datetime,
    ends_at: datetime | None,
) -> Sequence[Appointment]:
    query = select(Appointment).where(
        Appointment.organisation_id == organisation_id,
        or_(Appointment.ends_at.is_(None), Appointment.ends_at > starts_at),
    )
    if ends_at is not None:
        query = query.where(Appointment.starts_at < ends_at)
    return (await session.scalars(query)).all()


async def delegations_of(session: AsyncSession, organisation_id: str) -> Sequence[Delegation]:
    query = (
        select(Delegation)
        .join(Appointment, Appointment.id == Delegation.appointment_id)
        .where(Appointment.organisation_id == organisation_id)
        .order_by(Delegation.starts_at, Delegation.id)
    )
    return (await session.scalars(query)).all()
