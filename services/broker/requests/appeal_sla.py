"""Overdue appeals climb as overdue steps do: when the coordinator lets the decision deadline
lapse, the appeal passes to the next body up the policy's appeal chain for the level of the
body that refused (never the requester, never a body that refused), which gets its own
deadline; at the top the lapse is recorded and the deadline moves, so the appeal waits where
it is."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from broker.directory import repository as directory_repository
from broker.requests import appeal_tasks, publish, repository
from broker.requests.appeals import appeal_deadline
from broker.requests.links import Links
from broker.routing.appeal import appeal_chain, next_coordinator
from broker.routing.policy import Policy
from core.events import RequestEventName
from core.ids import new_id
from core.models.requests import AppealCoordinator, DataRequest


async def escalate_one_appeal(
    session: AsyncSession, *, now: datetime, policy: Policy, links: Links
) -> bool:
    """The oldest overdue appeal (locked, others' skipped) passed up; False when none is due."""
    appeal = await repository.overdue_appeal(session, now)
    if appeal is None:
        return False
    request = await session.get(DataRequest, appeal.request_id)
    seat = await repository.current_coordinator(session, appeal.id)
    assert request is not None
    assert seat is not None
    directory = await directory_repository.current_view(session, now)
    target = next_coordinator(
        seat.organisation_id,
        appeal.against,
        request.requester_id,
        directory,
        appeal_chain(appeal.against, directory, policy.appeal),
    )
    appeal.escalations += 1
    appeal.due_at = appeal_deadline(now, policy.appeal.decision_working_days)
    new_seat = None
    if target is not None:
        seat.replaced_at = now
        new_seat = AppealCoordinator(
            id=new_id("apc"),
            appeal_id=appeal.id,
            request_id=request.id,
            organisation_id=target,
            escalated_from=seat.organisation_id,
            added_at=now,
        )
        session.add(new_seat)
    await session.flush()
    await publish.request_event(
        session, request, RequestEventName.appeal_escalated, now=now, actor=None,
        appeal_id=appeal.id, moves=[{"from": seat.organisation_id, "to": target}],
    )  # fmt: skip
    if new_seat is not None:
        await appeal_tasks.tell_coordinator(
            session, request, appeal, new_seat, now=now, links=links
        )
    return True
