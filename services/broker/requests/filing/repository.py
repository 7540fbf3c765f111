"""All SQL of filing: what it reads before it plans, in one round trip; what it writes, in one
statement on PostgreSQL; and the request an Idempotency-Key produced."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Select, Table, bindparam, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from broker.audit import repository as audit_repository
from broker.directory import repository as directory_repository
from core.db import Base, anchored_inserts, insert_parameters, tables_of
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
    dataset: Dataset | None
    requester: Organisation | None
    owner: Organisation | None
    earlier_id: str | None  # the request this requester filed earlier with this key
    version: tuple[int, ...]  # the directory's (directory/repository.py `version_columns`)


_REQUESTER = aliased(Organisation, name="requester")
_OWNER = aliased(Organisation, name="owner")


@cache
def _context_query(dialect: str) -> Select[Any]:
    """Built once per dialect: constructing it costs more than running it."""
    earlier = (
        select(DataRequest.id)
        .where(
            DataRequest.requester_id == bindparam("requester_id"),
            DataRequest.idempotency_key == bindparam("key"),
        )
        .scalar_subquery()
    )
    return (
        select(_REQUESTER, Dataset, _OWNER, earlier, *directory_repository.version_columns(dialect))
        .select_from(_REQUESTER)
        .outerjoin(Dataset, Dataset.id == bindparam("dataset_id"))
        .outerjoin(_OWNER, _OWNER.id == Dataset.owner_id)
        .where(_REQUESTER.id == bindparam("requester_id"))
    )


async def context(
    session: AsyncSession, requester_id: str, dataset_id: str, key: str | None
) -> FilingContext:
    """Everything filing reads before it plans, in one round trip: the dataset, requester and
    owner (then in the session for the rest of filing), an earlier request with the same
    Idempotency-Key, and the directory's version. Each round trip is a large share of a filing,
    so five reads became one."""
    query = _context_query(session.get_bind().dialect.name)
    params = {"requester_id": requester_id, "dataset_id": dataset_id, "key": key}
    row = (await session.execute(query, params)).one_or_none()
    if row is None:
        return FilingContext(None, None, None, None, ())
    return FilingContext(row[1], row[0], row[2], row[3], tuple(int(v) for v in row[4:]))


@cache
def _write_statement(tables: tuple[Table, ...]) -> Select[Any]:
    anchor, inserted, others = anchored_inserts(tables)
    head, appended = audit_repository.append_when(inserted)
    return (
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
    row = (await connection.execute(_write_statement(tables), parameters)).one_or_none()
    if row is None:
        return False
    entry.id, entry.prev_hash, entry.hash = row[1:]
    return True
