"""What a change of a request locks, in the one order every change takes: the request's row
first, then its steps or its appeal."""

from __future__ import annotations

from typing import NamedTuple, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.directory import repository as directory_repository
from core.models.catalog import Dataset
from core.models.directory import Organisation
from core.models.requests import Appeal, DataRequest, RequestStep

_OfARequest = TypeVar("_OfARequest", RequestStep, Appeal)


async def lock_request(session: AsyncSession, request_id: str) -> DataRequest | None:
    """Decisions, cancellations and holds on one request run one at a time."""
    return await session.scalar(
        select(DataRequest).where(DataRequest.id == request_id).with_for_update()
    )


class Locked(NamedTuple):
    """A request locked for a decision or a hold, with what its change may need besides."""

    request: DataRequest
    requester: Organisation
    dataset: Dataset | None  # None: a demand or an IT project
    directory_version: tuple[int, ...]  # directory/repository.py `version_columns`; SQLite: ()


async def lock_request_with_parties(session: AsyncSession, request_id: str) -> Locked | None:
    """`lock_request`, and in the same statement the requester and the dataset (a step the
    change opens tells its approvers of both) and the directory's version, with which the
    process's directory snapshot (directory/repository.py `directory_snapshot`) is exact for
    this transaction without a statement of its own."""
    columns = directory_repository.version_columns(session.get_bind().dialect.name)
    row = (
        await session.execute(
            select(DataRequest, Organisation, Dataset, *columns)
            .join(Organisation, Organisation.id == DataRequest.requester_id)
            .outerjoin(Dataset, Dataset.id == DataRequest.dataset_id)
            .where(DataRequest.id == request_id)
            .with_for_update(of=DataRequest)
        )
    ).first()
    if row is None:
        return None
    return Locked(row[0], row[1], row[2], tuple(int(v) for v in row[3:]))


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
