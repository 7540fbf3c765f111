"""All SQL of the request lifecycle."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models.directory import Appointment, Delegation, Organisation, OrgKind
from core.models.grants import Grant
from core.models.problems import ProblemNamedRequest
from core.models.requests import (
    Appeal,
    AppealCoordinator,
    Clarification,
    DataRequest,
    Decision,
    RequestStep,
    StepApprover,
)

_OfARequest = TypeVar("_OfARequest", RequestStep, Appeal)


async def lock_request(session: AsyncSession, request_id: str) -> DataRequest | None:
    """Decisions, cancellations and holds on one request run one at a time."""
    return await session.scalar(
        select(DataRequest).where(DataRequest.id == request_id).with_for_update()
    )


async def steps_of(session: AsyncSession, request_ids: Sequence[str]) -> Sequence[RequestStep]:
    return (
        await session.scalars(
            select(RequestStep)
            .where(RequestStep.request_id.in_(request_ids))
            .order_by(RequestStep.request_id, RequestStep.index)
        )
    ).all()


async def approvers_of(session: AsyncSession, request_ids: Sequence[str]) -> Sequence[StepApprover]:
    return (
        await session.scalars(
            select(StepApprover)
            .where(StepApprover.request_id.in_(request_ids))
            .order_by(StepApprover.added_at, StepApprover.id)
        )
    ).all()


async def decisions_of(session: AsyncSession, request_ids: Sequence[str]) -> Sequence[Decision]:
    return (
        await session.scalars(
            select(Decision)
            .where(Decision.request_id.in_(request_ids))
            .order_by(Decision.created_at, Decision.id)
        )
    ).all()


async def grants_of(session: AsyncSession, request_ids: Sequence[str]) -> dict[str, str]:
    rows = await session.execute(
        select(Grant.request_id, Grant.id).where(Grant.request_id.in_(request_ids))
    )
    return {a: b for a, b in rows}  # noqa: C416 (Row is not a 2-sequence for dict())


async def approved_demands_for(session: AsyncSession, dataset_id: str) -> Sequence[DataRequest]:
    """The approved demands whose draft entry is `dataset_id`, without a grant yet, locked."""
    return (
        await session.scalars(
            select(DataRequest)
            .where(
                DataRequest.kind == "demand",
                DataRequest.dataset_id == dataset_id,
                DataRequest.status == "approved",
                ~exists().where(Grant.request_id == DataRequest.id),
            )
            .order_by(DataRequest.id)
            .with_for_update()
        )
    ).all()


async def active_cdo_names(
    session: AsyncSession, organisation_ids: Sequence[str], now: datetime
) -> dict[str, str]:
    rows = await session.execute(
        select(Appointment.organisation_id, Appointment.person_name).where(
            Appointment.organisation_id.in_(organisation_ids),
            Appointment.starts_at <= now,
            or_(Appointment.ends_at.is_(None), Appointment.ends_at > now),
        )
    )
    return {a: b for a, b in rows}  # noqa: C416 (Row is not a 2-sequence for dict())


async def active_appointment(
    session: AsyncSession, organisation_id: str, now: datetime
) -> Appointment | None:
    return await session.scalar(
        select(Appointment).where(
            Appointment.organisation_id == organisation_id,
            Appointment.starts_at <= now,
            or_(Appointment.ends_at.is_(None), Appointment.ends_at > now),
        )
    )


async def active_delegations_to(
    session: AsyncSession, delegate_org_id: str, now: datetime
) -> Sequence[tuple[Delegation, Appointment]]:
    """Delegations in force that let `delegate_org_id` decide for another body's CDO."""
    rows = await session.execute(
        select(Delegation, Appointment)
        .join(Appointment, Appointment.id == Delegation.appointment_id)
        .where(
            Delegation.delegate_org_id == delegate_org_id,
            Delegation.revoked_at.is_(None),
            Delegation.starts_at <= now,
            Delegation.ends_at > now,
            Appointment.starts_at <= now,
            or_(Appointment.ends_at.is_(None), Appointment.ends_at > now),
        )
    )
    return [(delegation, appointment) for delegation, appointment in rows]


async def delegate_orgs_of(session: AsyncSession, organisation_id: str, now: datetime) -> list[str]:
    """Other bodies that may decide for `organisation_id`'s CDO right now."""
    rows = await session.scalars(
        select(Delegation.delegate_org_id)
        .join(Appointment, Appointment.id == Delegation.appointment_id)
        .where(
            Appointment.organisation_id == organisation_id,
            Delegation.delegate_org_id != organisation_id,
            Delegation.revoked_at.is_(None),
            Delegation.starts_at <= now,
            Delegation.ends_at > now,
        )
        .order_by(Delegation.delegate_org_id)
    )
    return list(dict.fromkeys(rows))


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
    filters: list[ColumnElement[bool]] = []
    if status is not None:
        filters.append(DataRequest.status == status)
    if kind is not None:
        filters.append(DataRequest.kind == kind)
    if dataset_id is not None:
        filters.append(DataRequest.dataset_id == dataset_id)
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


async def open_clarification(session: AsyncSession, step_id: str) -> Clarification | None:
    return await session.scalar(
        select(Clarification).where(
            Clarification.step_id == step_id, Clarification.answered_at.is_(None)
        )
    )


def _with_its_request_locked(row: type[_OfARequest]) -> Select[_OfARequest]:
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


async def overdue_steps(session: AsyncSession, now: datetime, limit: int) -> Sequence[RequestStep]:
    """Steps past their SLA, locked; rows another broker process holds are skipped, so each
    lapse is escalated by exactly one process, and a request being decided waits for a later
    pass."""
    return (
        await session.scalars(
            _with_its_request_locked(RequestStep)
            .where(RequestStep.status == "pending", RequestStep.due_at <= now)
            .order_by(RequestStep.due_at)
            .limit(limit)
        )
    ).all()


async def steps_to_remind(
    session: AsyncSession, now: datetime, before_s: int, limit: int
) -> Sequence[RequestStep]:
    """Pending steps whose deadline is less than `before_s` away and that were not reminded."""
    return (
        await session.scalars(
            _with_its_request_locked(RequestStep)
            .where(
                RequestStep.status == "pending",
                RequestStep.reminded_at.is_(None),
                RequestStep.due_at <= now + timedelta(seconds=before_s),
                RequestStep.due_at > now,
            )
            .limit(limit)
        )
    ).all()


async def lapsed_requests(
    session: AsyncSession, now: datetime, limit: int
) -> Sequence[DataRequest]:
    return (
        await session.scalars(
            select(DataRequest)
            .where(DataRequest.status == "pending", DataRequest.period_end <= now)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()


async def requests_without_cdo(
    session: AsyncSession, now: datetime, *, organisation_id: str | None = None, limit: int
) -> Sequence[str]:
    """Open requests with a current, undecided approver that is no data bureau and has no CDO
    appointment in force at `now` (it ended): the ones whose steps must pass on. Only
    `organisation_id`'s, if given."""
    in_office = exists().where(
        Appointment.organisation_id == StepApprover.organisation_id,
        Appointment.starts_at <= now,
        or_(Appointment.ends_at.is_(None), Appointment.ends_at > now),
    )
    decided = exists().where(
        Decision.step_id == StepApprover.step_id,
        Decision.organisation_id == StepApprover.organisation_id,
    )
    query = (
        select(StepApprover.request_id)
        .join(RequestStep, RequestStep.id == StepApprover.step_id)
        .join(Organisation, Organisation.id == StepApprover.organisation_id)
        .where(
            StepApprover.replaced_at.is_(None),
            RequestStep.status.in_(["waiting", "pending", "on_hold"]),
            Organisation.kind != OrgKind.data_bureau,
            ~in_office,
            ~decided,
        )
        .distinct()
        .order_by(StepApprover.request_id)
        .limit(limit)
    )
    if organisation_id is not None:
        query = query.where(StepApprover.organisation_id == organisation_id)
    return list(await session.scalars(query))


async def problems_naming(session: AsyncSession, request_id: str) -> list[str]:
    """The problem reports (问题反映) that name the request."""
    query = select(ProblemNamedRequest.problem_id).where(
        ProblemNamedRequest.request_id == request_id
    )
    return list(await session.scalars(query))


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
        _with_its_request_locked(Appeal)
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
        Appointment.starts_at <= now,
        or_(Appointment.ends_at.is_(None), Appointment.ends_at > now),
    )
    query = (
        _with_its_request_locked(Appeal)
        .join(AppealCoordinator, AppealCoordinator.appeal_id == Appeal.id)
        .join(Organisation, Organisation.id == AppealCoordinator.organisation_id)
        .where(
            Appeal.status == "pending",
            AppealCoordinator.replaced_at.is_(None),
            Organisation.kind != OrgKind.data_bureau,
            ~in_office,
        )
        .order_by(Appeal.id)
        .limit(limit)
    )
    if organisation_id is not None:
        query = query.where(AppealCoordinator.organisation_id == organisation_id)
    return (await session.scalars(query)).all()


async def appeals_to_coordinate(
    session: AsyncSession, org_id: str, *, limit: int
) -> Sequence[DataRequest]:
    """Requests whose pending appeal `org_id` coordinates now, the nearest deadline first."""
    query = (
        select(DataRequest)
        .join(Appeal, Appeal.request_id == DataRequest.id)
        .join(AppealCoordinator, AppealCoordinator.appeal_id == Appeal.id)
        .where(
            Appeal.status == "pending",
            AppealCoordinator.organisation_id == org_id,
            AppealCoordinator.replaced_at.is_(None),
        )
        .order_by(Appeal.due_at)
        .limit(limit)
    )
    return (await session.scalars(query)).all()
