"""What the requesting body's people see and may do on a request's page: the clarifications
asked and answered, the form to answer the open one, and the form to withdraw (撤回) a pending
request. Who may: the requester's people whose role files requests (ROLE_SCOPES), as the API's
`requests:submit` scope says for systems."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.oauth.scopes import ROLE_SCOPES, Scope
from broker.people.roles import Role
from broker.requests.access import Acting
from broker.requests.schemas import RequestOut
from core.models.requests import Clarification


def files_requests(role: str) -> bool:
    return Scope.requests_submit in ROLE_SCOPES[Role(role)]


async def requester_side(
    session: AsyncSession, r: RequestOut, acting: Acting, role: str
) -> dict[str, Any]:
    clarifications = (
        await session.scalars(
            select(Clarification)
            .where(Clarification.request_id == r.id)
            .order_by(Clarification.asked_at, Clarification.id)
        )
    ).all()
    ours = r.requester_id == acting.own and files_requests(role) and r.status == "pending"
    return {
        "clarifications": clarifications,
        "may_answer": ours and any(c.answered_at is None for c in clarifications),
        "may_cancel": ours,
    }
