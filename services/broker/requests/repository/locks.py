"""What a change of a request locks, in the one order every change takes: the request's row
first, then its steps or its appeal."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.directory import repository as directory_repository
from core.models.requests import Appeal, DataRequest, RequestStep

_OfARequest = TypeVar("_OfARequest", RequestStep, Appeal)


async def lock_request(session: AsyncSession, request_id: str) -> DataRequest | None:
    """Decisions, cancellations and holds on one request run one at a time."""
    return await session.scalar(
        select(DataRequest).where(DataRequest.id == request_id).with_for_update()
    )


async def lock_request_seeing_directory(
    session: AsyncSession, request_id: str
) -> tuple[DataRequest | None, tuple[int, ...]]:
    """`lock_request`, and the directory's version as the same statement sees it: the process's
    directory snapshot (directory/repository.py `directory_snapshot`) is then exact for this
    transaction's moment without a statement of its own (on SQLite, no version: `()`)."""
    columns = directory_repository.version_columns(session.get_bind().dialect.name)
    row = (
        await session.execute(
            select(DataRequest, *columns)
            .where(DataRequest.id == request_id)
            .with_for_update(of=DataRequest)
        )
    ).first()
    if row is None:
        return None, ()
    return row[0], tuple(int(v) for v in row[1:])


def with_its_request_locked(row: type[_OfARequest]) -> Select[_OfARequest]:
    """Steps or appeals locked together with their request's row, skipping any either of which
    another transaction holds. The request's lock comes first in every change of a request (see
    `lock_request`): a row taken without it could be locked while a decision that holds the
    request waits for the row, and the row's holder waits for the request (a deadlock; a new
    row pointing at the request waits for it too, to check its key)."""
    return (
        select(row)
        .join(DataRequest, DataRequest.id == row.request_id)
        .with_for_update(skip_locked=True, of=[row, DataRequest])
    )
