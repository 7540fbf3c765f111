"""Whom the evaluation report's rows are about: the bodies and the CDO appointments, read as
columns by Core statements on the session's connection. The province has thousands of each,
and loading them as ORM objects cost more than every count of the report together."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.reports.repository.measures import ReportFilter
from core.models.directory import Appointment, Organisation

# Past this many bodies the whole table is read instead: a long IN list costs more than it.
_WHOLE_TABLE_FROM = 500


@dataclass(frozen=True, slots=True)
class Cdo:
    """What a report row says of a CDO appointment."""

    id: str
    organisation_id: str
    person_name: str
    title: str


@dataclass(frozen=True, slots=True)
class Body:
    """What a report row says of a body."""

    id: str
    name: str
    level: str


_CDO_COLUMNS = (
    Appointment.id,
    Appointment.organisation_id,
    Appointment.person_name,
    Appointment.title,
)


async def appointments_during(session: AsyncSession, f: ReportFilter) -> list[Cdo]:
    """CDO appointments that ran at some moment of the window: they get a row even when idle."""
    stmt = select(*_CDO_COLUMNS).where(
        Appointment.starts_at < f.end,
        or_(Appointment.ends_at.is_(None), Appointment.ends_at > f.start),
    )
    if f.level is not None:
        stmt = stmt.join(Organisation, Organisation.id == Appointment.organisation_id).where(
            Organisation.level == f.level
        )
    connection = await session.connection()
    return [Cdo(*row) for row in await connection.execute(stmt)]


async def appointments(session: AsyncSession, ids: Collection[str]) -> dict[str, Cdo]:
    if not ids:
        return {}
    connection = await session.connection()
    rows = await connection.execute(select(*_CDO_COLUMNS).where(Appointment.id.in_(ids)))
    return {row.id: Cdo(*row) for row in rows}


async def organisations(session: AsyncSession, ids: Collection[str]) -> dict[str, Body]:
    """The bodies named, read whole when they are most of the directory."""
    stmt = select(Organisation.id, Organisation.name, Organisation.level)
    if len(ids) < _WHOLE_TABLE_FROM:
        stmt = stmt.where(Organisation.id.in_(ids))
    connection = await session.connection()
    return {row.id: Body(*row) for row in await connection.execute(stmt) if row.id in ids}
