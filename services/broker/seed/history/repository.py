"""Every statement of `seed-history`: the directory, the catalog and the audit chains' heads read
once, the rows of each batch written with PostgreSQL's COPY, and the heads moved to the last rows
written."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.models.audit import AuditChainHead
from core.models.catalog import Dataset, DatasetStatus
from core.models.directory import Appointment, Organisation


async def organisations(
    session: AsyncSession,
) -> Sequence[Row[str, str, str, str, str | None, str | None]]:
    """(id, kind, level, division code, government, parent) of every body."""
    return (
        await session.execute(
            select(
                Organisation.id,
                Organisation.kind,
                Organisation.level,
                Organisation.division_code,
                Organisation.government_id,
                Organisation.parent_id,
            )
        )
    ).all()


async def appointment_terms(
    session: AsyncSession,
) -> Sequence[Row[str, datetime, datetime | None, str, str]]:
    """(body, start, end, appointment, person) of every appointment, the earliest first."""
    return (
        await session.execute(
            select(
                Appointment.organisation_id,
                Appointment.starts_at,
                Appointment.ends_at,
                Appointment.id,
                Appointment.person_name,
            ).order_by(Appointment.starts_at)
        )
    ).all()


async def published_datasets(
    session: AsyncSession,
) -> Sequence[Row[str, str, str, str, list[dict[str, Any]]]]:
    """(id, owner, sharing class, grade, fields) of every published dataset."""
    return (
        await session.execute(
            select(
                Dataset.id, Dataset.owner_id, Dataset.sharing_class, Dataset.grade, Dataset.fields
            ).where(Dataset.status == DatasetStatus.published)
        )
    ).all()


async def chain_heads(session: AsyncSession) -> dict[int, tuple[str, str]]:
    return {h.chain: (h.prev_hash, h.hash) for h in await session.scalars(select(AuditChainHead))}


async def copy_tables(
    session: AsyncSession, tables: Sequence[tuple[str, Sequence[str], list[tuple[Any, ...]]]]
) -> None:
    """Each (table, columns, records) with COPY, in the order given (parents before children)."""
    connection = await session.connection()
    raw: Any = (await connection.get_raw_connection()).driver_connection
    for table, columns, records in tables:
        await raw.copy_records_to_table(table, records=records, columns=columns)


async def move_chain_heads(session: AsyncSession, heads: dict[int, tuple[str, str]]) -> None:
    for chain, (prev_hash, hash_) in heads.items():
        statement = insert(AuditChainHead).values(chain=chain, prev_hash=prev_hash, hash=hash_)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[AuditChainHead.chain],
                set_={"prev_hash": prev_hash, "hash": hash_},
            )
        )
