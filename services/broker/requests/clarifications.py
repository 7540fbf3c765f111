"""Clarifications: the step's CDO puts the step on hold and asks the requester; the answer
resumes it, and the working time that was left is left again (requests/step_clock.py). Each is
audited with who asked or answered (organisation, client, person)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from broker.requests import publish
from broker.requests.access import Acting, in_office, locked_visible, turn_of
from broker.requests.changes import audit_change
from broker.requests.exceptions import NotTheApprover, NotTheRequester, RequestClosed
from broker.requests.lifecycle import StepStatus
from broker.requests.progress import load_route
from broker.requests.repository import routes
from broker.requests.step_clock import resume_clock
from core.events import RequestEventName
from core.ids import new_id
from core.models.requests import Clarification


async def ask_clarification(
    session: AsyncSession, *, request_id: str, acting: Acting, question: str, now: datetime
) -> Clarification:
    """The step's CDO asks the requester; the step's SLA clock stops until the answer."""
    request, _, step, approver, *_ = await turn_of(session, request_id, acting)
    if step is None or approver is None:
        raise NotTheApprover(
            "only the current step's CDO may ask for clarification",
            detail_zh="只有当前审批环节的首席数据官可以要求补充说明",
        )
    await in_office(session, approver, acting, now)
    if step.status == StepStatus.on_hold:
        raise RequestClosed(
            "a clarification is already open on this step",
            detail_zh="本审批环节已有待答复的补充说明",
        )
    step.status = StepStatus.on_hold
    step.on_hold_since = now
    clarification = Clarification(
        id=new_id("clr"),
        request_id=request.id,
        step_id=step.id,
        asked_by_org_id=approver.organisation_id,
        question=question,
        asked_at=now,
    )
    session.add(clarification)
    await audit_change(
        session, request, "clarification.asked", actor=acting.actor, now=now,
        clarification_id=clarification.id, step=step.index, on_behalf_of=approver.organisation_id,
    )  # fmt: skip
    await publish.request_event(
        session,
        request,
        RequestEventName.clarification_requested,
        now=now,
        actor=approver.organisation_id,
        step=step.index,
        clarification_id=clarification.id,
        question=question,
    )
    return clarification


async def answer_clarification(
    session: AsyncSession, *, request_id: str, acting: Acting, answer: str, now: datetime
) -> Clarification:
    request = await locked_visible(session, request_id, acting)
    if request.requester_id != acting.own:
        raise NotTheRequester(
            "only the requesting body answers a clarification", detail_zh="补充说明由申请单位答复"
        )
    route = await load_route(session, request.id)
    step = route.step(request.current_step) if request.current_step is not None else None
    clarification = await routes.open_clarification(session, step.id) if step else None
    if step is None or clarification is None or step.on_hold_since is None:
        raise RequestClosed(
            "no clarification is open on this request", detail_zh="该申请没有待答复的补充说明"
        )
    paused = resume_clock(step, now)
    step.status = StepStatus.pending
    clarification.answer = answer
    clarification.answered_at = now
    await audit_change(
        session, request, "clarification.answered", actor=acting.actor, now=now,
        clarification_id=clarification.id, step=step.index,
    )  # fmt: skip
    await publish.request_event(
        session,
        request,
        RequestEventName.clarification_answered,
        now=now,
        actor=acting.own,
        step=step.index,
        clarification_id=clarification.id,
        paused_seconds=paused,
    )
    return clarification
