"""The rows a filing writes, built in memory from what it was asked and what it planned: the
request, and its route's steps and approvers (`filing/writing.py` writes them)."""

from __future__ import annotations

from datetime import datetime

from broker.audit.actor import Actor
from broker.kit.tracing import TraceContext
from broker.requests.filing.schemas import RequestIn
from broker.requests.filing.validation import PROJECT_PERIOD
from broker.requests.lifecycle import RequestStatus, StepStatus
from broker.requests.parties import DatasetRow
from broker.requests.progress import Route, approver_row
from broker.routing import model as routing
from core.ids import new_id
from core.models.requests import DataRequest, RequestStep

# What a request keeps of its body as the body says it.
_AS_FILED = {"kind", "description", "purpose", "legal_basis", "jurisdiction"}


def request_row(
    body: RequestIn,
    requester: Actor,
    *,
    dataset: DatasetRow | None,
    provider_id: str,
    rule: str | None,
    trace: TraceContext,
    idempotency_key: str | None,
    digest: str,
    now: datetime,
) -> DataRequest:
    """The request as filed now: granted, until a CDO narrows it, the fields of the dataset it
    asks for over the period it asks for (an IT project: from now, for `PROJECT_PERIOD`)."""
    period_start, period_end = (
        (body.period.start, body.period.end) if body.period else (now, now + PROJECT_PERIOD)
    )
    asked = list(body.fields or ())
    wanted = set(asked)
    return DataRequest(
        id=new_id("req"),
        **body.model_dump(include=_AS_FILED),
        requester_id=str(requester.org_id),
        dataset_id=dataset.id if dataset else None,
        provider_id=provider_id,
        project=body.project.model_dump(mode="json") if body.project else None,
        filed_by_person_id=requester.person_id,
        filed_by_client_id=requester.client_id,
        fields=asked,
        period_start=period_start,
        period_end=period_end,
        granted_fields=[f["name"] for f in dataset.fields if f["name"] in wanted]
        if dataset
        else [],
        granted_start=period_start,
        granted_end=period_end,
        status=RequestStatus.pending,
        routing_rule=rule,
        trace_id=trace.trace_id,
        span_id=trace.span_id,
        idempotency_key=idempotency_key,
        fingerprint=digest,
        created_at=now,
        updated_at=now,
    )


def route_rows(request: DataRequest, plan: routing.Plan) -> Route:
    route = Route(steps=[], approvers=[], decisions=[])
    for planned in plan.steps:
        step = RequestStep(
            id=new_id("stp"),
            request_id=request.id,
            index=planned.index,
            role=planned.role,
            required=planned.required,
            sla_seconds=planned.sla_seconds,
            sla_working_days=planned.sla_working_days,
            status=StepStatus.waiting,
            held_seconds=0,
            held_working_seconds=0,
            escalations=0,
        )
        route.steps.append(step)
        for approver in planned.approvers:
            route.approvers.append(
                approver_row(
                    step,
                    organisation_id=approver.organisation_id,
                    acting_for=approver.acting_for,
                    added_at=request.created_at,
                )
            )
    return route
