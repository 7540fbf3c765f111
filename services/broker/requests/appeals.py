"""Appeals (申请协调): the requester takes a rejection, or an approval narrowed below what it asked,
to the CDO above the body that refused (routing/appeal.py says who), once and within the
policy's deadline. Deciding one is appeal_decisions.py. Nothing refused changes anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from broker.calendar.deadlines import china_time, deadline_after
from broker.calendar.installed import current
from broker.directory import repository as directory_repository
from broker.requests import appeal_tasks, publish
from broker.requests.access import Acting, locked_visible
from broker.requests.changes import audit_change
from broker.requests.exceptions import (
    AppealConflict,
    AppealTooLate,
    NoIndependentApprover,
    NotAppealable,
    NotTheAppellant,
)
from broker.requests.lifecycle import RequestStatus
from broker.requests.links import Links
from broker.requests.repository import routes
from broker.requests.repository.appeals import appeal_of
from broker.routing import model as routing_model
from broker.routing.appeal import appeal_chain, appeal_coordinator
from broker.routing.policy import Policy
from core.events import RequestEventName
from core.ids import new_id
from core.models.requests import Appeal, AppealCoordinator, DataRequest, Decision
from core.words import STATUS_ZH, said

# What a provider refuses: data. A demand's refusal or an IT project's veto has its own rules.
APPEALABLE_KINDS = ("share", "return")


def appeal_deadline(start: datetime, working_days: int) -> datetime:
    """The close (18:00 CST) of the `working_days`th working day after `start`, by the calendar
    this process counts with (holidays and make-up working days included)."""
    return deadline_after(current(), start, working_days).at


def may_have_appeal(request: DataRequest) -> bool:
    """Whether an appeal of the request may exist: one is filed only with `grounds_of` (a rejected
    or an approved request), and deciding it leaves the request rejected or approved."""
    return request.kind in APPEALABLE_KINDS and request.status in (
        RequestStatus.rejected,
        RequestStatus.approved,
    )


def grounds_of(request: DataRequest) -> str | None:
    """Why the request may be appealed: `rejected`, `narrowed` (approved, granting less than
    asked), or None (nothing to appeal; and a demand or an IT project is never appealed)."""
    if request.kind not in APPEALABLE_KINDS:
        return None
    if request.status == RequestStatus.rejected:
        return "rejected"
    if request.status == RequestStatus.approved and (
        set(request.granted_fields) != set(request.fields)
        or request.granted_start > request.period_start
        or request.granted_end < request.period_end
    ):
        return "narrowed"
    return None


async def file_appeal(
    session: AsyncSession,
    *,
    request_id: str,
    acting: Acting,
    reason: str,
    now: datetime,
    policy: Policy,
    links: Links,
) -> Appeal:
    request = await locked_visible(session, request_id, acting)
    if request.requester_id != acting.own:
        raise NotTheAppellant(
            f"only the requesting body '{request.requester_id}' may appeal its request",
            detail_zh="只有提出申请的单位可以对审批决定申请协调",
        )
    if await appeal_of(session, request.id) is not None:
        raise AppealConflict(
            "the request was already appealed: a request is appealed once",
            detail_zh="该申请已申请过协调，每项申请只能申请协调一次",
        )
    if request.kind not in APPEALABLE_KINDS:
        raise NotAppealable(
            f"a {request.kind} is not appealed: appeals are for share and return requests",
            detail_zh="只有数据共享申请和数据回流申请可以申请协调（数据需求、信息化项目不适用）",
            request_kind=request.kind,
        )
    grounds = grounds_of(request)
    if grounds is None:
        raise NotAppealable(
            f"the request is {request.status}: only a rejection or an approval narrowed below "
            "what was asked may be appealed",
            detail_zh=f"申请状态为“{said(STATUS_ZH, request.status)}”："
            "只有不同意或部分同意（缩小范围）的申请可以申请协调",
            request_status=request.status,
        )
    assert request.decided_at is not None
    deadline = appeal_deadline(request.decided_at, policy.appeal.deadline_working_days)
    if now >= deadline:
        days = policy.appeal.deadline_working_days
        raise AppealTooLate(
            f"the deadline for an appeal ({days} working days after the decision) passed at "
            f"{deadline.isoformat()}",
            detail_zh=f"申请协调须在审批决定后{days}个工作日内提出，期限已于"
            f"{china_time(deadline)}届满",
            deadline=deadline.isoformat(),
        )
    against = _refused_by(await routes.decisions_of(session, [request.id]), grounds)
    if not against:  # no body's decision to appeal (only decisions reject or narrow)
        raise NotAppealable(
            "no body's decision rejected or narrowed the request: nothing to appeal",
            detail_zh="没有可申请协调的审批决定",
            request_status=request.status,
        )
    directory = await directory_repository.current_view(session, now)
    try:
        coordinator = appeal_coordinator(
            against,
            request.requester_id,
            directory,
            appeal_chain(against, directory, policy.appeal),
        )
    except routing_model.NoIndependentApprover as exc:
        raise NoIndependentApprover(
            str(exc), detail_zh="原决定单位之上已无可以协调该申请的单位"
        ) from exc
    appeal = Appeal(
        id=new_id("apl"),
        request_id=request.id,
        appellant_client=acting.actor.client_id,
        appellant_person_id=acting.actor.person_id,
        reason=reason,
        grounds=grounds,
        against=against,
        status="pending",
        due_at=appeal_deadline(now, policy.appeal.decision_working_days),
        escalations=0,
        created_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(appeal)
            await session.flush()
    except IntegrityError as exc:  # the request row lock makes this a backstop
        raise AppealConflict(
            "the request was appealed at the same moment",
            detail_zh="该申请已申请过协调，每项申请只能申请协调一次",
        ) from exc
    seat = coordinator_row(appeal, coordinator, added_at=now)
    session.add(seat)
    await audit_change(
        session, request, "appeal.filed", actor=acting.actor, now=now,
        appeal_id=appeal.id, against=against, coordinator=coordinator, grounds=grounds,
    )  # fmt: skip
    await publish.request_event(
        session, request, RequestEventName.appealed, now=now, actor=acting.own,
        appeal_id=appeal.id, coordinator=coordinator, against=against, reason=reason,
        grounds=grounds,
    )  # fmt: skip
    await appeal_tasks.tell_coordinator(session, request, appeal, seat, now=now, links=links)
    return appeal


def coordinator_row(
    appeal: Appeal, organisation_id: str, *, added_at: datetime, escalated_from: str | None = None
) -> AppealCoordinator:
    """A coordinator's seat on `appeal`: the first at filing, or one taken over from
    `escalated_from` (requests/appeal_moves.py)."""
    return AppealCoordinator(
        id=new_id("apc"),
        appeal_id=appeal.id,
        request_id=appeal.request_id,
        organisation_id=organisation_id,
        escalated_from=escalated_from,
        added_at=added_at,
    )


def _refused_by(decisions: Sequence[Decision], grounds: str) -> list[str]:
    """The bodies that rejected, or (a narrowed approval) those whose approval narrowed."""
    refusals = [
        d.organisation_id
        for d in decisions
        if (d.decision == "reject" if grounds == "rejected" else d.narrowing is not None)
    ]
    return list(dict.fromkeys(refusals))
