"""Appeals (申请协调): the requester takes a rejection, or an approval narrowed below what it asked,
to the CDO above the body that refused (routing/appeal.py says who), once and within the
policy's deadline; that CDO upholds or overturns, with a reason, and an overturn approves as
asked (or as the coordinator narrows) and issues the grant. Nothing refused changes anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.calendar.deadlines import CHINA, deadline_after
from broker.calendar.installed import current
from broker.directory import repository as directory_repository
from broker.grants.service import grant_event, issue_grant
from broker.people.authority import deciding_person
from broker.requests import appeal_tasks, publish, repository
from broker.requests.access import Acting, locked_visible, refuse_the_requester
from broker.requests.exceptions import (
    AppealClosed,
    AppealConflict,
    AppealTooLate,
    CDONotInOffice,
    InvalidDecision,
    NoIndependentApprover,
    NotAppealable,
    NotTheCoordinator,
    NotTheRequester,
    RefuserCannotCoordinate,
    RequestNotFound,
)
from broker.requests.lifecycle import Grantable, RequestStatus, Widening, narrow
from broker.requests.links import Links
from broker.requests.schemas import AppealDecisionIn
from broker.routing import model as routing_model
from broker.routing.appeal import appeal_coordinator
from broker.routing.policy import Policy
from core.events import GrantEventName, RequestEventName
from core.ids import new_id
from core.models.directory import Organisation, OrgKind
from core.models.grants import Grant
from core.models.requests import Appeal, AppealCoordinator, DataRequest, Decision


def appeal_deadline(start: datetime, working_days: int) -> datetime:
    """The close (18:00 CST) of the `working_days`th working day after `start`, by the calendar
    this process counts with (holidays and make-up working days included)."""
    return deadline_after(current(), start, working_days).at


def grounds_of(request: DataRequest) -> str | None:
    """Why the request may be appealed: `rejected`, `narrowed` (approved, granting less than
    asked), or None (nothing to appeal)."""
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
        raise NotTheRequester("只有申请单位可以申请协调 / only the requesting body may appeal")
    if await repository.appeal_of(session, request.id) is not None:
        raise AppealConflict(
            "该申请已申请过协调，每项申请只能申请协调一次 / a request is appealed once"
        )
    grounds = grounds_of(request)
    if grounds is None:
        raise NotAppealable(
            f"申请状态为{request.status}：只有不同意或部分同意（缩小范围）的申请可以申请协调 / "
            "only a rejection or a narrowed approval may be appealed",
            request_status=request.status,
        )
    assert request.decided_at is not None
    deadline = appeal_deadline(request.decided_at, policy.appeal.deadline_working_days)
    if now >= deadline:
        raise AppealTooLate(
            f"申请协调的期限已于{deadline.astimezone(CHINA):%Y-%m-%d %H:%M}（北京时间）届满 / "
            "the deadline for an "
            f"appeal ({policy.appeal.deadline_working_days} working days) has passed",
            deadline=deadline.isoformat(),
        )
    against = _refused_by(await repository.decisions_of(session, [request.id]), grounds)
    if not against:  # no body's decision to appeal (only decisions reject or narrow)
        raise NotAppealable("没有可申请协调的审批决定 / no decision to appeal")
    directory = await directory_repository.current_view(session, now)
    try:
        coordinator = appeal_coordinator(
            against, request.requester_id, directory, policy.appeal.chain
        )
    except routing_model.NoIndependentApprover as exc:
        raise NoIndependentApprover(str(exc)) from exc
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
            "该申请已申请过协调 / the request was appealed at the same moment"
        ) from exc
    seat = AppealCoordinator(
        id=new_id("apc"),
        appeal_id=appeal.id,
        request_id=request.id,
        organisation_id=coordinator,
        added_at=now,
    )
    session.add(seat)
    request.updated_at = now
    await session.flush()
    await audit.record(
        session, "appeal.filed", actor=acting.actor, subject=request.id, now=now,
        appeal_id=appeal.id, against=against, coordinator=coordinator, grounds=grounds,
    )  # fmt: skip
    await publish.request_event(
        session, request, RequestEventName.appealed, now=now, actor=acting.own,
        appeal_id=appeal.id, coordinator=coordinator, against=against, reason=reason,
        grounds=grounds,
    )  # fmt: skip
    await appeal_tasks.tell_coordinator(session, request, appeal, seat, now=now, links=links)
    return appeal


def _refused_by(decisions: Sequence[Decision], grounds: str) -> list[str]:
    """The bodies that rejected, or (a narrowed approval) those whose approval narrowed."""
    refusals = [
        d.organisation_id
        for d in decisions
        if (d.decision == "reject" if grounds == "rejected" else d.narrowing is not None)
    ]
    return list(dict.fromkeys(refusals))


async def decide_appeal(
    session: AsyncSession,
    *,
    request_id: str,
    acting: Acting,
    body: AppealDecisionIn,
    now: datetime,
    require_person: bool = False,
) -> DataRequest:
    request = await locked_visible(session, request_id, acting)
    appeal = await repository.appeal_of(session, request.id)
    if appeal is None:
        raise RequestNotFound(request_id)
    refuse_the_requester(request, acting)
    if acting.own in appeal.against:
        raise RefuserCannotCoordinate(
            f"'{acting.own}'作出了被申请协调的决定，不能协调本申请 / the body that refused never "
            "decides the appeal against its refusal"
        )
    if appeal.status != "pending":
        raise AppealClosed(
            f"申请协调已办结（{appeal.status}）/ the appeal was already decided",
            appeal_status=appeal.status,
        )
    seat = await repository.current_coordinator(session, appeal.id)
    if seat is None or seat.organisation_id != acting.own:
        raise NotTheCoordinator(
            "本申请协调由其他首席数据官办理 / another CDO coordinates this appeal",
            coordinator=seat.organisation_id if seat else None,
        )
    appointment = await repository.active_appointment(session, acting.own, now)
    if appointment is None:
        org = await session.get(Organisation, acting.own)
        if org is None or org.kind != OrgKind.data_bureau:
            raise CDONotInOffice(f"'{acting.own}' has no CDO in office")
    person = await deciding_person(
        session, acting.actor, approver_org_id=acting.own, appointment=appointment,
        delegation=None, require_person=require_person,
    )  # fmt: skip
    appeal.status = "upheld" if body.decision == "uphold" else "overturned"
    appeal.comment = body.comment
    appeal.decided_at = now
    appeal.decided_by_org_id = acting.own
    appeal.decided_by_appointment_id = appointment.id if appointment else None
    appeal.decided_by_client = acting.actor.client_id
    appeal.decided_by_person_id = person.id if person else None
    appeal.decided_by_person_name = person.name if person else None
    grant: Grant | None = None
    if body.decision == "overturn":
        appeal.narrowing = body.narrowing()
        grant = await _overturn(session, request, appeal, body, now=now, acting=acting)
    request.updated_at = now
    await session.flush()
    await audit.record(
        session, "appeal.decided", actor=acting.actor, subject=request.id, now=now,
        appeal_id=appeal.id, decision=body.decision, grant_id=grant.id if grant else None,
        decided_by_person=appeal.decided_by_person_id,
    )  # fmt: skip
    await publish.request_event(
        session, request, RequestEventName.appeal_decided, now=now, actor=acting.own,
        appeal_id=appeal.id, decision=body.decision, comment=body.comment,
        grant_id=grant.id if grant else None,
    )  # fmt: skip
    return request


async def _overturn(
    session: AsyncSession,
    request: DataRequest,
    appeal: Appeal,
    body: AppealDecisionIn,
    *,
    now: datetime,
    acting: Acting,
) -> Grant:
    """Approve as asked, or as the coordinator narrows what was asked; the grant follows (a
    narrowed approval's grant is widened to it)."""
    asked = Grantable(tuple(request.fields), request.period_start, request.period_end)
    try:
        granted = narrow(
            asked,
            fields=body.fields,
            start=body.period.start if body.period else None,
            end=body.period.end if body.period else None,
        )
    except Widening as exc:
        raise InvalidDecision(str(exc), field=exc.field) from exc
    request.granted_fields = list(granted.fields)
    request.granted_start, request.granted_end = granted.start, granted.end
    request.status = RequestStatus.approved
    request.status_reason = f"申请协调改变原决定：{body.comment}"
    request.current_step = None
    request.decided_at = now
    existing = await session.get(
        Grant, (await repository.grants_of(session, [request.id])).get(request.id, "")
    )
    if existing is None:
        await session.flush()
        decisions = [
            d.id
            for d in await repository.decisions_of(session, [request.id])
            if d.decision == "approve"
        ]
        return await issue_grant(
            session, request, [*decisions, appeal.id], now=now, actor=acting.actor
        )
    existing.fields = list(granted.fields)
    existing.starts_at, existing.ends_at = granted.start, granted.end
    existing.decision_ids = [*existing.decision_ids, appeal.id]
    await session.flush()
    await grant_event(
        session, existing, GrantEventName.issued, request=request, now=now,
        reason="申请协调改变原决定，按协调结果重新授权",
    )  # fmt: skip
    await audit.record(
        session, "grant.issued", actor=acting.actor, subject=existing.id, now=now,
        grantee=existing.grantee_id, dataset=existing.dataset_id, decisions=existing.decision_ids,
    )  # fmt: skip
    return existing
