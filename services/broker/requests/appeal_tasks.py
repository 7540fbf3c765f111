"""Telling an appeal's coordinator: an approval task on `datashare.approvals`, keyed by the
coordinating organisation, with all its CDO needs to decide (the request, its route with the
decisions appealed, the appellant's reason) and where to decide."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from broker.kit.tracing import traceparent_of
from broker.requests import publish
from broker.requests.links import Links
from broker.requests.progress import load_route
from core import topics
from core.events import AppealDetail, ApprovalTask, Period, ce_type
from core.models.requests import Appeal, AppealCoordinator, DataRequest
from core.outbox import record_event


async def tell_coordinator(
    session: AsyncSession,
    request: DataRequest,
    appeal: Appeal,
    seat: AppealCoordinator,
    *,
    now: datetime,
    links: Links,
    lapsed: bool = False,
) -> None:
    """`lapsed`: the seat's predecessor let the deadline pass (an `appeal.escalated` task, which
    tells that one too); otherwise a new coordinator, first or after a CDO left office."""
    requester, dataset = await publish.parties(session, request)
    route = await load_route(session, request.id)
    name: Literal["appeal.requested", "appeal.escalated"] = (
        "appeal.escalated" if lapsed else "appeal.requested"
    )
    task = ApprovalTask(
        task=name,
        request_id=request.id,
        step=max((s.index for s in route.steps if s.decided_at is not None), default=0),
        role="appeal_coordinator",
        approver_id=seat.organisation_id,
        acting_for=None,
        escalated_from=seat.escalated_from if lapsed else None,
        delegate_ids=[],
        required=1,
        kind=request.kind,  # type: ignore[arg-type]
        requester=requester,
        dataset=dataset,
        fields=list(request.fields),
        purpose=request.purpose,
        legal_basis=request.legal_basis,
        period=Period(start=request.period_start, end=request.period_end),
        jurisdiction=request.jurisdiction,
        route=publish.route_summary(route.steps, route.approvers, route.decisions),
        due_at=appeal.due_at,
        decision_url=links.appeal_decision(request.id),
        console_url=links.console(request.id),
        trace_id=request.trace_id,
        occurred_at=now,
        appeal=AppealDetail(
            appeal_id=appeal.id,
            reason=appeal.reason,
            grounds=appeal.grounds,  # type: ignore[arg-type]
            against=list(appeal.against),
            granted_fields=list(request.granted_fields),
        ),
    )
    await record_event(
        session,
        topic=topics.APPROVALS,
        key=seat.organisation_id,
        type=ce_type("approval", name.replace(".", "_")),
        subject=request.id,
        data=task.model_dump(mode="json"),
        traceparent=traceparent_of(request),
    )
