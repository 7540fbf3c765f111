"""The requester withdraws (撤回) its pending request: open steps are cancelled, nothing is
granted, and the audit log names who withdrew it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.requests.access import Acting, locked_visible
from broker.requests.exceptions import NotTheRequester, RequestClosed
from broker.requests.lifecycle import RequestStatus
from broker.requests.progress import close_early
from core.models.requests import DataRequest
from core.words import STATUS_ZH, said


async def cancel(
    session: AsyncSession, *, request_id: str, acting: Acting, reason: str | None, now: datetime
) -> DataRequest:
    request = await locked_visible(session, request_id, acting)
    if request.requester_id != acting.own:
        raise NotTheRequester(
            "only the requesting body may cancel its request", detail_zh="只有申请单位可以撤回申请"
        )
    if request.status == RequestStatus.cancelled:
        return request
    if request.status != RequestStatus.pending:
        raise RequestClosed(
            f"the request is already {request.status}",
            detail_zh=f"该申请已是“{said(STATUS_ZH, request.status)}”状态",
            request_status=request.status,
        )
    await close_early(
        session,
        request,
        RequestStatus.cancelled,
        now=now,
        actor=acting.actor,
        reason=reason or "cancelled by the requester",
    )
    await audit.record(
        session, "request.cancelled", actor=acting.actor, subject=request.id, now=now,
        reason=reason,
    )  # fmt: skip
    return request
