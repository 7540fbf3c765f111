"""The appeal's two forms on a request's page: the requester's staff appeal (申请协调) with a
reason; the coordinating CDO upholds (维持原决定) or overturns (改变原决定), with a reason, and
may narrow what is approved (untick fields, an earlier end date). The same services and rules as
the API, a person required to decide; a refusal is shown in words and changes nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from broker.console.narrowing import Ticked, TickedDep, narrowing
from broker.console.refusals import Refused
from broker.console.request_page import refused_page
from broker.console.session import CsrfField, SignedInDep, may_act, refuse_without_csrf
from broker.kit.deps import SessionDep, SettingsDep
from broker.kit.problems import Problem
from broker.oauth.scopes import Scope
from broker.requests import appeal_decisions, appeals
from broker.requests.access import Acting, acting_for
from broker.requests.dependencies import LinksDep, PolicyDep
from broker.requests.exceptions import RequestNotFound
from broker.requests.lifecycle import Grantable
from broker.requests.repository import listing
from broker.requests.schemas import AppealDecisionIn
from core.clock import utcnow

router = APIRouter()


@router.post("/requests/{request_id}/appeal")
async def appeal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    me: SignedInDep,
    policy: PolicyDep,
    links: LinksDep,
    request_id: str,
    csrf: CsrfField = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    refuse_without_csrf(me, csrf)
    now = utcnow()
    try:
        if not may_act(me.person.role, Scope.requests_submit):  # as a person's token says
            raise Refused("not_a_filer", status=403)
        if not reason.strip():
            raise Refused("appeal_reason_required")
        await appeals.file_appeal(
            session, request_id=request_id, acting=await acting_for(session, me.actor, now),
            reason=reason, now=now, policy=policy, links=links,
        )  # fmt: skip
    except (Problem, ValidationError, Refused) as refused:
        return await refused_page(request, session, me, settings, request_id, refused)
    return RedirectResponse(f"/console/requests/{request_id}?done=appealed", status_code=303)


@router.post("/requests/{request_id}/appeal/decision")
async def decide_appeal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    me: SignedInDep,
    request_id: str,
    decision: Annotated[str, Form(pattern="^(uphold|overturn)$")],
    narrowed: TickedDep,
    csrf: CsrfField = "",
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    refuse_without_csrf(me, csrf)
    now = utcnow()
    try:
        if not comment.strip():
            raise Refused("appeal_comment_required")
        acting = await acting_for(session, me.actor, now)
        body = await _decision(session, acting, request_id, decision, comment, narrowed)
        await appeal_decisions.decide_appeal(
            session, request_id=request_id, acting=acting, body=body, now=now,
            require_person=True,
        )  # fmt: skip
    except (Problem, ValidationError, Refused) as refused:
        return await refused_page(request, session, me, settings, request_id, refused)
    return RedirectResponse(f"/console/requests/{request_id}?done=coordinated", status_code=303)


async def _decision(
    session: SessionDep,
    acting: Acting,
    request_id: str,
    decision: str,
    comment: str,
    narrowed: Ticked,
) -> AppealDecisionIn:
    """An overturn approves what was asked unless the form narrows it: fields unticked (none
    ticked is refused by the rules, in words), or an earlier last day."""
    if decision == "uphold":
        return AppealDecisionIn(decision="uphold", comment=comment)
    asked = await listing.visible_request(session, request_id, acting.own, acting.org_ids)
    if asked is None:
        raise RequestNotFound(request_id)
    offered = Grantable(tuple(asked.fields), asked.period_start, asked.period_end)
    narrowed_fields, period = narrowing(narrowed.fields, narrowed.end, offered)
    return AppealDecisionIn(
        decision="overturn", comment=comment, fields=narrowed_fields, period=period
    )
