"""The appeal's two forms on a request's page: the requester's staff appeal (申请协调) with a
reason; the coordinating CDO upholds (维持原决定) or overturns (改变原决定), with a reason, and
may narrow what is approved (untick fields, an earlier end date). The same services and rules as
the API, a person required to decide; a refusal is shown in words and changes nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import Response

from broker.console.narrowing import Ticked, TickedDep, narrowing
from broker.console.refusals import Refused
from broker.console.request_page import RequestFormDep, RequestPage
from broker.oauth.scopes import Scope
from broker.requests import appeal_decisions, appeals
from broker.requests.access import Acting, acting_for
from broker.requests.dependencies import LinksDep, PolicyDep
from broker.requests.exceptions import RequestNotFound
from broker.requests.lifecycle import Grantable
from broker.requests.links import Links
from broker.requests.schemas import AppealDecisionIn
from broker.routing.policy import Policy
from core.clock import utcnow

router = APIRouter()


@router.post("/requests/{request_id}/appeal")
async def appeal(
    page: RequestFormDep,
    policy: PolicyDep,
    links: LinksDep,
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    return await page.outcome(_appealing(page, reason, policy, links), done="appealed")


async def _appealing(page: RequestPage, reason: str, policy: Policy, links: Links) -> None:
    acting, now = await page.acting_as(Scope.requests_submit, "not_a_filer")
    if not reason.strip():
        raise Refused("appeal_reason_required")
    await appeals.file_appeal(
        page.session, request_id=page.request_id, acting=acting, reason=reason, now=now,
        policy=policy, links=links,
    )  # fmt: skip


@router.post("/requests/{request_id}/appeal/decision")
async def decide_appeal(
    page: RequestFormDep,
    decision: Annotated[str, Form(pattern="^(uphold|overturn)$")],
    narrowed: TickedDep,
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return await page.outcome(_coordinating(page, decision, comment, narrowed), done="coordinated")


async def _coordinating(page: RequestPage, decision: str, comment: str, narrowed: Ticked) -> None:
    if not comment.strip():
        raise Refused("appeal_comment_required")
    now = utcnow()
    acting = await acting_for(page.session, page.me.actor, now)
    body = await _decision(page, acting, decision, comment, narrowed)
    await appeal_decisions.decide_appeal(
        page.session, request_id=page.request_id, acting=acting, body=body, now=now,
        require_person=True,
    )  # fmt: skip


async def _decision(
    page: RequestPage, acting: Acting, decision: str, comment: str, narrowed: Ticked
) -> AppealDecisionIn:
    """An overturn approves what was asked unless the form narrows it: fields unticked (none
    ticked is refused by the rules, in words), or an earlier last day."""
    if decision == "uphold":
        return AppealDecisionIn(decision="uphold", comment=comment)
    asked = await page.visible(acting)
    if asked is None:
        raise RequestNotFound(page.request_id)
    offered = Grantable(tuple(asked.fields), asked.period_start, asked.period_end)
    narrowed_fields, period = narrowing(narrowed.fields, narrowed.end, offered)
    return AppealDecisionIn(
        decision="overturn", comment=comment, fields=narrowed_fields, period=period
    )
