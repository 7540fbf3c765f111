"""What the SLA job sweeps for: steps past or near their deadline, requests whose period
lapsed, and requests whose approver has no CDO in office any more. Rows another process holds
are skipped, so each is handled by exactly one broker process."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.kit.filters import where_given
from broker.requests.repository.locks import with_its_request_locked
from core.models.directory import Appointment, Organisation, OrgKind
from core.models.requests import DataRequest, Decision, RequestStep, StepApprover


async def overdue_steps(session: AsyncSession, now: datetime, limit: int) -> Sequence[RequestStep]:
    """Steps past their SLA, locked; rows another broker process holds are skipped, so each
    lapse is escalated by exactly one process, and a request being decided waits for a later
    pass."""
    return (
        await session.scalars(
            with_its_request_locked(RequestStep)
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
            with_its_request_locked(RequestStep)
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
        Appointment.in_force_at(now),
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
    query = where_given(query, (StepApprover.organisation_id, organisation_id))
    return list(await session.scalars(query))
