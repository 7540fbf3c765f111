"""Every statement of `seed-pilot` and `seed-province` (the history's are in
history/repository.py): what is already there, so a rerun adds nothing, and the province's bodies,
appointments, delegations and datasets written in bulk, a few statements per table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models.catalog import Dataset
from core.models.directory import Appointment, Organisation
from core.models.oauth import OAuthClient
from core.models.people import Person

_CHUNK = 2000


async def organisation_ids(session: AsyncSession) -> set[str]:
    return set(await session.scalars(select(Organisation.id)))


async def organisations_with_appointments(session: AsyncSession) -> set[str]:
    """Bodies that had a CDO appointment at some time (a reseed files none for them)."""
    return set(await session.scalars(select(Appointment.organisation_id).distinct()))


async def dataset_ids(session: AsyncSession) -> set[str]:
    return set(await session.scalars(select(Dataset.id)))


async def live_client_ids(session: AsyncSession) -> set[str]:
    return set(
        await session.scalars(select(OAuthClient.id).where(OAuthClient.revoked_at.is_(None)))
    )


async def enabled_people(session: AsyncSession) -> Sequence[Person]:
    return (await session.scalars(select(Person).where(Person.disabled_at.is_(None)))).all()


async def organisations_present(
    session: AsyncSession,
) -> Sequence[Row[str, str, str, str | None, str]]:
    """(id, kind, division code, government, name) of every body already written."""
    return (
        await session.execute(
            select(
                Organisation.id,
                Organisation.kind,
                Organisation.division_code,
                Organisation.government_id,
                Organisation.name,
            )
        )
    ).all()


async def division_codes(session: AsyncSession) -> dict[str, str]:
    return dict((await session.execute(select(Organisation.id, Organisation.division_code))).all())


async def last_filing_sequences(session: AsyncSession) -> dict[tuple[str, int], int]:
    """The last receipt number each bureau gave in each year."""
    rows = await session.execute(
        select(
            Appointment.filed_with_id,
            Appointment.filing_year,
            func.max(Appointment.filing_sequence),
        ).group_by(Appointment.filed_with_id, Appointment.filing_year)
    )
    return {(bureau, year): sequence for bureau, year, sequence in rows}


async def insert_in_bulk(session: AsyncSession, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    """One multi-row INSERT per chunk of rows, not a round trip per row."""
    for start in range(0, len(rows), _CHUNK):
        await session.execute(insert(model), list(rows[start : start + _CHUNK]))
