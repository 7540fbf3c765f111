"""A request's appeal and its coordinators, and the pending appeals the SLA job moves on (past
their deadline, or coordinated by a body with no CDO in office)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.kit.filters import where_given
from broker.requests.repository.locks import with_its_request_locked
from core.models.directory import Appointment, Organisation, OrgKind
from core.models.requests import Appeal, AppealCoordinator, DataRequest

T = TypeVar("T")


def _at_current_seat(query: Select[T]) -> Select[T]:
    """`query`, which reaches Appeal, joined to each pending appeal's current coordinator."""
    return query.join(AppealCoordinator, AppealCoordinator.appeal_id == Appeal.id).where(
        Appeal.status == "pending", AppealCoordinator.replaced_at.is_(None)
    )


async def appeal_of(session: AsyncSession, request_id: str) -> Appeal | None:
    return await session.scalar(select(Appeal).where(Appeal.request_id == request_id))


async def current_coordinator(session: AsyncSession, appeal_id: str) -> AppealCoordinator | None:
    return await session.scalar(
        select(AppealCoordinator).where(
            AppealCoordinator.appeal_id == appeal_id, AppealCoordinator.replaced_at.is_(None)
        )
    )


async def appeals_of(
    session: AsyncSession, request_ids: Sequence[str]
) -> tuple[dict[str, Appeal], list[AppealCoordinator]]:
    appeals = await session.scalars(select(Appeal).where(Appeal.request_id.in_(request_ids)))
    seats = await session.scalars(
        select(AppealCoordinator)
        .where(AppealCoordinator.request_id.in_(request_ids))
        .order_by(AppealCoordinator.added_at, AppealCoordinator.id)
    )
    return {a.request_id: a for a in appeals}, list(seats)


async def overdue_appeal(session: AsyncSession, now: datetime) -> Appeal | None:
    """The oldest pending appeal past its deadline, locked with its request; those another
    transaction holds skipped."""
    return await session.scalar(
        with_its_request_locked(Appeal)
        .where(Appeal.status == "pending", Appeal.due_at < now)
        .order_by(Appeal.due_at)
        .limit(1)
    )


async def appeals_without_cdo(
    session: AsyncSession, now: datetime, *, organisation_id: str | None = None, limit: int
) -> Sequence[Appeal]:
    """Pending appeals (locked with their requests, others' skipped) whose current coordinator is
    no data bureau and has no CDO appointment in force at `now`; only `organisation_id`'s, if
    given."""
    in_office = exists().where(
        Appointment.organisation_id == AppealCoordinator.organisation_id,
        Appointment.in_force_at(now),
    )
    query = (
        _at_current_seat(with_its_request_locked(Appeal))
        .join(Organisation, Organisation.id == AppealCoordinator.organisation_id)
        .where(Organisation.kind != OrgKind.data_bureau, ~in_office)
        .order_by(Appeal.id)
        .limit(limit)
    )
    query = where_given(query, (AppealCoordinator.organisation_id, organisation_id))
    return (await session.scalars(query)).all()


async def appeals_to_coordinate(
    session: AsyncSession, org_id: str, *, limit: int
) -> Sequence[DataRequest]:
    """Requests whose pending appeal `org_id` coordinates now, the nearest deadline first."""
    query = (
        _at_current_seat(select(DataRequest).join(Appeal, Appeal.request_id == DataRequest.id))
        .where(AppealCoordinator.organisation_id == org_id)
        .order_by(Appeal.due_at)
        .limit(limit)
    )
    return (await session.scalars(query)).all()
