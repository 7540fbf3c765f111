"""All SQL of filing: what it reads before it plans, in one round trip; what it writes, in one
statement on PostgreSQL; and the request an Idempotency-Key produced."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import repository as audit_repository
from broker.directory import repository as directory_repository
from broker.requests.parties import DatasetRow, OrganisationRow
from core.db import Base, anchored_inserts, insert_parameters, tables_of
from core.driver import DriverStatement
from core.models.audit import AuditEntry
from core.models.catalog import Dataset
from core.models.directory import Organisation
from core.models.requests import DataRequest


async def by_idempotency_key(
    session: AsyncSession, requester_id: str, key: str
) -> DataRequest | None:
    return await session.scalar(
        select(DataRequest).where(
            DataRequest.requester_id == requester_id, DataRequest.idempotency_key == key
        )
    )


@dataclass(frozen=True)
class FilingContext:
    dataset: DatasetRow | None
    requester: OrganisationRow | None
    owner: OrganisationRow | None
    earlier_id: str | None  # the request this requester filed earlier with this key
    version: tuple[int, ...]  # the directory's (directory/repository.py `version_columns`)


_ORGANISATIONS = Organisation.__table__
_DATASETS = Dataset.__table__
_REQUESTER = _ORGANISATIONS.alias("requester")
_OWNER = _ORGANISATIONS.alias("owner")
_ORGANISATION_WIDTH = len(OrganisationRow._fields)
_DATASET_WIDTH = len(DatasetRow._fields)


def _organisation(row: tuple[Any, ...], at: int) -> OrganisationRow | None:
    values = row[at : at + _ORGANISATION_WIDTH]
    return None if values[0] is None else OrganisationRow(*values)


async def organisation(session: AsyncSession, organisation_id: str) -> OrganisationRow | None:
    """A body as filing reads it (a demand's presumed provider)."""
    query = select(*(_ORGANISATIONS.c[name] for name in OrganisationRow._fields)).where(
        _ORGANISATIONS.c.id == organisation_id
    )
    row = (await (await session.connection()).execute(query)).one_or_none()
    return None if row is None else OrganisationRow(*row)


@cache
def _context_query(dialect: str) -> DriverStatement:
    """Built once per dialect (constructing it costs more than running it), run on the driver
    (core/driver.py)."""
    earlier = (
        select(DataRequest.id)
        .where(
            DataRequest.requester_id == bindparam("requester_id"),
            DataRequest.idempotency_key == bindparam("key"),
        )
        .scalar_subquery()
    )
    return DriverStatement(
        select(
            *(_REQUESTER.c[name] for name in OrganisationRow._fields),
            *(_DATASETS.c[name] for name in DatasetRow._fields),
            *(_OWNER.c[name] for name in OrganisationRow._fields),
            earlier,
            *directory_repository.version_columns(dialect),
        )
        .select_from(_REQUESTER)
        .outerjoin(_DATASETS, _DATASETS.c.id == bindparam("dataset_id"))
        .outerjoin(_OWNER, _OWNER.c.id == _DATASETS.c.owner_id)
        .where(_REQUESTER.c.id == bindparam("requester_id"))
    )


async def context(
    session: AsyncSession, requester_id: str, dataset_id: str, key: str | None
) -> FilingContext:
    """Everything filing reads before it plans, in one round trip: the dataset, requester and
    owner (as plain rows: `broker/requests/parties.py`), an earlier request with the same
    Idempotency-Key, and the directory's version. Each round trip is a large share of a filing,
    so five reads became one."""
    query = _context_query(session.get_bind().dialect.name)
    params = {"requester_id": requester_id, "dataset_id": dataset_id, "key": key}
    connection = await session.connection()  # Core rows: no entity, identity map or loader
    rows = await query.rows(connection, params)
    if not rows:
        return FilingContext(None, None, None, None, ())
    row = rows[0]
    dataset_at = _ORGANISATION_WIDTH
    owner_at = dataset_at + _DATASET_WIDTH
    earlier_at = owner_at + _ORGANISATION_WIDTH
    dataset = row[dataset_at : dataset_at + _DATASET_WIDTH]
    return FilingContext(
        None if dataset[0] is None else DatasetRow(*dataset),
        _organisation(row, 0),
        _organisation(row, owner_at),
        row[earlier_at],
        tuple(int(v) for v in row[earlier_at + 1 :]),
    )


@cache
def _write_statement(tables: tuple[Table, ...]) -> DriverStatement:
    """Built and compiled once per tuple of tables, run on the driver (core/driver.py)."""
    anchor, inserted, others = anchored_inserts(tables)
    head, appended = audit_repository.append_when(inserted)
    return DriverStatement(
        select(anchor.c.id, appended.c.id, appended.c.prev_hash, appended.c.hash)
        .select_from(anchor.outerjoin(appended, true()))
        .add_cte(*others, head)
    )


async def write(
    session: AsyncSession,
    rows: Sequence[Base],
    entry: AuditEntry,
    audit_parameters: dict[str, Any],
) -> bool:
    """PostgreSQL: a filing's rows (the request first, then each table after those its foreign
    keys name) and its audit entry, in one statement; False, with nothing written, if the
    request conflicts (its Idempotency-Key was used)."""
    tables = tables_of(rows)
    parameters = insert_parameters(rows, tables) | audit_parameters
    connection = await session.connection()  # a Core statement: none of the ORM's bulk logic
    written = await _write_statement(tables).rows(connection, parameters)
    if not written:
        return False
    entry.id, entry.prev_hash, entry.hash = written[0][1:]
    return True
