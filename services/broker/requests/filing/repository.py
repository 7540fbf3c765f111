"""All SQL of filing: what it reads before it plans, in one round trip; what it writes, in one
statement on PostgreSQL, unless the directory or the catalog changed since what it planned from
was read; and the request an Idempotency-Key produced."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, bindparam, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import repository as audit_repository
from broker.directory import repository as directory_repository
from broker.requests.parties import DatasetRow, OrganisationRow
from core.db import Base, anchored_inserts, insert_parameters, tables_of, version_now
from core.driver import DriverStatement
from core.models.audit import AuditEntry
from core.models.catalog import CatalogVersion, Dataset
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
    catalog: tuple[int, ...]  # the catalog's (core/db.version_now of CatalogVersion)


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


def _versions(dialect: str) -> list[ColumnElement[int]]:
    """The directory's version, then the catalog's, as a statement sees them (none on SQLite):
    what the context read returns and what the write's guard compares, in that order."""
    return [
        *directory_repository.version_columns(dialect),
        *version_now(CatalogVersion, dialect),
    ]


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
            *_versions(dialect),
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
        return FilingContext(None, None, None, None, (), ())
    row = rows[0]
    dataset_at = _ORGANISATION_WIDTH
    owner_at = dataset_at + _DATASET_WIDTH
    earlier_at = owner_at + _ORGANISATION_WIDTH
    dataset = row[dataset_at : dataset_at + _DATASET_WIDTH]
    versions = tuple(int(v) for v in row[earlier_at + 1 :])  # none, or the directory's and ours
    return FilingContext(
        None if dataset[0] is None else DatasetRow(*dataset),
        _organisation(row, 0),
        _organisation(row, owner_at),
        row[earlier_at],
        versions[:1],
        versions[1:],
    )


class Written(Enum):
    """What `write` did."""

    written = "written"
    key_used = "key used"  # nothing written: the request's Idempotency-Key was used
    stale = "stale"  # nothing written: the directory or the catalog is not as it was read


# The write's guard: the versions are still those what the filing planned from was read at.
_READ_AT = and_(
    *(
        seen == bindparam(name)
        for seen, name in zip(
            _versions("postgresql"), ("directory_version", "catalog_version"), strict=True
        )
    )
)


@cache
def _write_statement(tables: tuple[Table, ...]) -> DriverStatement:
    """Built and compiled once per tuple of tables, run on the driver (core/driver.py). Its one
    row says whether the guard held (the versions as this statement saw them) and what was
    written."""
    anchor, inserted, others = anchored_inserts(tables, _READ_AT)
    head, appended = audit_repository.append_when(inserted)
    seen = select(*_versions("postgresql")).subquery("seen")
    return DriverStatement(
        select(*seen.c, anchor.c.id, appended.c.id, appended.c.prev_hash, appended.c.hash)
        .select_from(seen.outerjoin(anchor, true()).outerjoin(appended, true()))
        .add_cte(*others, head)
    )


async def write(
    session: AsyncSession,
    rows: Sequence[Base],
    entry: AuditEntry,
    audit_parameters: dict[str, Any],
    read_at: tuple[tuple[int, ...], tuple[int, ...]],
) -> Written:
    """PostgreSQL: a filing's rows (the request first, then each table after those its foreign
    keys name) and its audit entry, in one statement, if the directory's and the catalog's
    versions are still `read_at` (those what the filing planned from was read at); otherwise,
    or if the request conflicts (its Idempotency-Key was used), nothing written."""
    (directory_version,), (catalog_version,) = read_at
    tables = tables_of(rows)
    parameters = insert_parameters(rows, tables) | audit_parameters
    parameters |= {"directory_version": directory_version, "catalog_version": catalog_version}
    connection = await session.connection()  # a Core statement: none of the ORM's bulk logic
    (row,) = await _write_statement(tables).rows(connection, parameters)
    if row[2] is not None:  # the request's id: written
        entry.id, entry.prev_hash, entry.hash = row[3:]
        return Written.written
    if (row[0], row[1]) != (directory_version, catalog_version):
        return Written.stale
    return Written.key_used
