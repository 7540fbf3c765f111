"""What the requesting body's people see and may do on a request's page: the clarifications
asked and answered, the form to answer the open one, and the form to withdraw (撤回) a pending
request. Who may: the requester's people whose role files requests (`requests:submit`, as the
API's scope says: session.may_act)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from broker.console import repository
from broker.console.session import may_act
from broker.oauth.scopes import Scope
from broker.requests.access import Acting
from broker.requests.schemas import RequestOut


async def requester_side(
    session: AsyncSession, r: RequestOut, acting: Acting, role: str
) -> dict[str, Any]:
    clarifications = await repository.clarifications_of(session, r.id)
    ours = (
        r.requester_id == acting.own
        and may_act(role, Scope.requests_submit)
        and r.status == "pending"
    )
    return {
        "clarifications": clarifications,
        "may_answer": ours and any(c.answered_at is None for c in clarifications),
        "may_cancel": ours,
    }
