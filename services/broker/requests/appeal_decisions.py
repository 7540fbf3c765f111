"""Deciding an appeal (申请协调): the coordinating CDO upholds the refusal or overturns it, each
with a reason; an overturn approves as asked (or as the coordinator narrows what was asked) and
issues the grant, or widens the one a narrowed approval produced. Never the requester, never a
body whose decision is appealed, and only the current coordinator (after a climb, the one above).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.grants.service import grant_event, issue_grant
from broker.people.authority import deciding_person
from broker.requests import publish
from broker.requests.access import Acting, locked_visible, refuse_the_requester
from broker.requests.changes import audit_change
from broker.requests.decisions import narrowed_to
from broker.requests.exceptions import (
    AppealClosed,
    CDONotInOffice,
    NotTheCoordinator,
    RefuserCannotCoordinate,
    RequestNotFound,
)
from broker.requests.lifecycle import Grantable, RequestStatus
from broker.requests.repository import appeals, authority, routes
from broker.requests.schemas import AppealDecisionIn
from core.events import GrantEventName, RequestEventName
from core.models.directory import Organisation, OrgKind
from core.models.grants import Grant
from core.models.requests import Appeal, DataRequest

APPEAL_STATUS_ZH = {"upheld": "维持原决定", "overturned": "改变原决定"}


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
    appeal = await appeals.appeal_of(session, request.id)
    if appeal is None:
        raise RequestNotFound(request_id)
    refuse_the_requester(request, acting)
    if acting.own in appeal.against:
        raise RefuserCannotCoordinate(
            f"'{acting.own}' made the decision appealed: it never decides the appeal against it",
            detail_zh="贵单位作出了被申请协调的审批决定，不能协调本申请",
        )
    if appeal.status != "pending":
        raise AppealClosed(
            f"the appeal was already decided ({appeal.status})",
            detail_zh=f"申请协调已办结（{APPEAL_STATUS_ZH.get(appeal.status, appeal.status)}），"
            "不能再次作出意见",
            appeal_status=appeal.status,
        )
    seat = await appeals.current_coordinator(session, appeal.id)
    if seat is None or seat.organisation_id != acting.own:
        raise NotTheCoordinator(
            f"the appeal is coordinated by '{seat.organisation_id if seat else None}', "
            f"not '{acting.own}'",
            detail_zh="本申请协调由其他单位的首席数据官办理（已提级协调的，原协调单位不再办理）",
            coordinator=seat.organisation_id if seat else None,
        )
    appointment = await authority.active_appointment(session, acting.own, now)
    if appointment is None:
        org = await session.get(Organisation, acting.own)
        if org is None or org.kind != OrgKind.data_bureau:
            raise CDONotInOffice(
                f"'{acting.own}' has no CDO in office",
                detail_zh=f"“{acting.own}”无在任首席数据官",
            )
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
    await audit_change(
        session, request, "appeal.decided", actor=acting.actor, now=now,
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
    granted = narrowed_to(asked, body.fields, body.period)
    request.granted_fields = list(granted.fields)
    request.granted_start, request.granted_end = granted.start, granted.end
    request.status = RequestStatus.approved
    request.status_reason = f"申请协调改变原决定：{body.comment}"
    request.current_step = None
    request.decided_at = now
    existing = await session.get(
        Grant, (await routes.grants_of(session, [request.id])).get(request.id, "")
    )
    if existing is None:
        await session.flush()
        decisions = [
            d.id
            for d in await routes.decisions_of(session, [request.id])
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
