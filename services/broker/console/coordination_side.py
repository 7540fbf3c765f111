"""What a request's page shows of coordination and which forms the reader gets: its appeal (申请
协调), which the requester's people who file requests may make against a rejection or a narrowed
approval until the policy's deadline, and which the current coordinator's CDO (or, for a bureau,
its operators) upholds or overturns; and the link to report a problem (问题反映) about it. The
services decide again when a form is posted: this only says what to offer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request

from broker.console.session import may_act
from broker.oauth.scopes import Scope
from broker.requests.access import Acting
from broker.requests.appeals import appeal_deadline, grounds_of
from broker.requests.dependencies import ROUTING_POLICY
from broker.requests.schemas import RequestOut
from core.models.requests import DataRequest


def appeal_bodies(r: RequestOut) -> list[str]:
    """The bodies an appeal names (those whose refusal it is against, its coordinators), for
    the page's names."""
    if r.appeal is None:
        return []
    return [*r.appeal.against, *(s.organisation_id for s in r.appeal.route)]


def coordinator_now(r: RequestOut) -> str | None:
    if r.appeal is None:
        return None
    return next((s.organisation_id for s in r.appeal.route if s.current), None)


async def coordination_side(
    request: Request,
    found: DataRequest,
    r: RequestOut,
    acting: Acting,
    role: str,
    now: datetime,
) -> dict[str, Any]:
    grounds = grounds_of(found) if r.appeal is None else None
    deadline = None
    if grounds is not None and found.decided_at is not None:
        days = (await ROUTING_POLICY.provide(request)).appeal.deadline_working_days
        deadline = appeal_deadline(found.decided_at, days)
    appeal = r.appeal
    return {
        "appeal_grounds": grounds,
        "appeal_deadline": deadline,
        "may_appeal": deadline is not None
        and now < deadline
        and r.requester_id == acting.own
        and may_act(role, Scope.requests_submit),
        "may_coordinate": appeal is not None
        and appeal.status == "pending"
        and coordinator_now(r) == acting.own
        and may_act(role, Scope.approvals_decide),
        "may_report": may_act(role, Scope.requests_submit),
    }
