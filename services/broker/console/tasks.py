"""待办 (my tasks): the open steps my body (or a body that delegated to it) must decide, the
nearest deadline first; the appeals it coordinates (申请协调) and, for the provincial bureau,
the problem reports it must answer (问题反映). The list refreshes itself (htmx polls its
fragment)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from broker.requests import views
from broker.requests.access import Acting
from broker.requests.repository import appeals, listing
from broker.requests.schemas import RequestOut, StepOut
from broker.routing.model import OWN_CDO_KINDS

MAX_TASKS = 200


@dataclass(frozen=True)
class Task:
    request: RequestOut
    step: StepOut
    for_org: str  # the body the caller decides for (its own, or its delegator)
    escalated: bool
    on_hold: bool
    overdue: bool


def task_of(request: RequestOut, acting: Acting, now: datetime) -> Task | None:
    if request.status != "pending" or request.current_step is None:
        return None
    step = request.route[request.current_step]
    decided = {d.organisation_id for d in step.decisions}
    mine = [
        a
        for a in step.approvers
        if a.current and a.organisation_id in acting.org_ids and a.organisation_id not in decided
    ]
    if not mine:
        return None
    if request.requester_id == acting.own and request.kind not in OWN_CDO_KINDS:
        return None  # a body never decides its own request, but its CDO passes its IT projects
    return Task(
        request=request,
        step=step,
        for_org=mine[0].organisation_id,
        escalated=step.escalations > 0 or any(a.escalated_from for a in mine),
        on_hold=step.on_hold_since is not None,
        overdue=is_overdue(step, now),
    )


def is_overdue(step: StepOut, now: datetime) -> bool:
    """Past its deadline and not on hold: the clock stops while the requester answers."""
    return step.on_hold_since is None and step.due_at is not None and step.due_at < now


async def my_tasks(session: AsyncSession, acting: Acting, now: datetime) -> list[Task]:
    rows = await listing.list_requests(
        session,
        own=acting.own,
        approving_for=acting.org_ids,
        role="approver",
        status="pending",
        kind=None,
        dataset_id=None,
        after=None,
        limit=MAX_TASKS,
    )
    described = await views.describe(session, rows, now)
    tasks = [task for r in described if (task := task_of(r, acting, now)) is not None]
    return sorted(tasks, key=lambda t: (t.step.due_at is None, t.step.due_at or now))


async def my_appeals(session: AsyncSession, acting: Acting, now: datetime) -> list[RequestOut]:
    """Requests whose appeal my body coordinates now (its own CDO: appeals are not delegated)."""
    rows = await appeals.appeals_to_coordinate(session, acting.own, limit=MAX_TASKS)
    return await views.describe(session, rows, now)
