"""What a caller sees: one request, some of them, a page of them (a CDO's queue among them) and
the requests whose appeal an organisation coordinates, each only if the caller is involved."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.kit.filters import equal_where_given
from core.models.requests import AppealCoordinator, DataRequest, StepApprover


def _involves(own: str, approving_for: Sequence[str]) -> object:
    """Filed by `own`, or to be decided by one of `approving_for` (own and its delegators): a
    delegate sees what it may decide, not what its delegator filed."""
    return or_(
        DataRequest.requester_id == own,
        exists().where(
            StepApprover.request_id == DataRequest.id,
            StepApprover.organisation_id.in_(approving_for),
        ),
        # an appeal's coordinators see the request they coordinate
        exists().where(
            AppealCoordinator.request_id == DataRequest.id,
            AppealCoordinator.organisation_id == own,
        ),
    )


async def visible_request(
    session: AsyncSession, request_id: str, own: str, approving_for: Sequence[str]
) -> DataRequest | None:
    return await session.scalar(
        select(DataRequest).where(DataRequest.id == request_id, _involves(own, approving_for))  # type: ignore[arg-type]
    )


async def visible_request_ids(
    session: AsyncSession, request_ids: Sequence[str], own: str, approving_for: Sequence[str]
) -> set[str]:
    """Those of `request_ids` the caller may see (the rest: unknown or not its business)."""
    if not request_ids:
        return set()
    rows = await session.scalars(
        select(DataRequest.id).where(
            DataRequest.id.in_(request_ids),
            _involves(own, approving_for),  # type: ignore[arg-type]
        )
    )
    return set(rows)


async def list_requests(
    session: AsyncSession,
    *,
    own: str,
    approving_for: Sequence[str],
    role: str | None,
    status: str | None,
    kind: str | None,
    dataset_id: str | None,
    after: str | None,
    limit: int,
) -> Sequence[DataRequest]:
    filters = equal_where_given(
        (DataRequest.status, status), (DataRequest.kind, kind), (DataRequest.dataset_id, dataset_id)
    )
    if after is not None:
        filters.append(DataRequest.id < after)
    query = select(DataRequest).order_by(DataRequest.id.desc()).limit(limit)
    if role == "approver":
        return (await session.scalars(query.where(DataRequest.id.in_(
            _approver_page(approving_for, filters, limit)
        )))).all()  # fmt: skip
    if role == "requester":
        query = query.where(DataRequest.requester_id == own)
    else:
        query = query.where(_involves(own, approving_for))  # type: ignore[arg-type]
    return (await session.scalars(query.where(*filters))).all()


def _approver_page(
    approving_for: Sequence[str], filters: Sequence[ColumnElement[bool]], limit: int
) -> Select[str]:
    """The ids of one page of a CDO's queue, newest first, read from the approvers' index
    (organisation, request) backwards: as long as the queue is short, however long the table
    of requests (an EXISTS per request walked every request of the province newer than the
    page, most of them someone else's)."""
    return (
        select(StepApprover.request_id)
        .join(DataRequest, DataRequest.id == StepApprover.request_id)
        .where(StepApprover.organisation_id.in_(approving_for), *filters)
        .distinct()
        .order_by(StepApprover.request_id.desc())
        .limit(limit)
    )
