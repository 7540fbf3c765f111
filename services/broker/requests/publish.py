"""Turning lifecycle changes into outbox rows (same transaction as the change)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, TypedDict, Unpack

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from broker.kit.attributes import attributes
from broker.kit.tracing import traceparent_of
from broker.requests.attributes import DECISION_AS_STORED, REQUEST_AS_STORED
from broker.requests.links import Links
from broker.requests.parties import DatasetRow, OrganisationRow
from broker.requests.repository import authority, routes
from core import topics
from core.events import (
    ApprovalTask,
    FieldOut,
    Period,
    RequestEvent,
    RequestEventName,
    RouteStep,
    StepDecision,
    TaskDataset,
    TaskDemand,
    TaskProject,
    ce_type,
)
from core.models.catalog import Dataset
from core.models.directory import Organisation
from core.models.requests import DataRequest, Decision, RequestStep, StepApprover
from core.outbox import record_event

# A task's dataset says the catalog's attributes under the catalog's names; only its fields are
# its own (those the approval would grant).
_CATALOGUED = tuple(name for name in TaskDataset.model_fields if name != "fields")


async def request_event(
    session: AsyncSession,
    request: DataRequest,
    name: RequestEventName,
    *,
    now: datetime,
    actor: str | None,
    step: int | None = None,
    **detail: Any,
) -> None:
    event = RequestEvent(
        event=name,
        request_id=request.id,
        **attributes(request, REQUEST_AS_STORED),
        occurred_at=now,
        actor=actor,
        step=step,
        detail=detail,
    )
    await _record(
        session, request, topics.REQUESTS, request.id, ce_type("request", name.value), event
    )


async def _record(
    session: AsyncSession, request: DataRequest, topic: str, key: str, type_: str, data: BaseModel
) -> None:
    """`data` on the outbox about `request`, in the request's trace."""
    await record_event(
        session,
        topic=topic,
        key=key,
        type=type_,
        subject=request.id,
        data=data.model_dump(mode="json"),
        traceparent=traceparent_of(request),
    )


def route_summary(
    steps: Sequence[RequestStep],
    approvers: Sequence[StepApprover],
    decisions: Sequence[Decision],
) -> list[RouteStep]:
    return [
        RouteStep(
            index=step.index,
            role=step.role,
            status=step.status,
            required=step.required,
            approvers=[
                a.organisation_id
                for a in approvers
                if a.step_id == step.id and a.replaced_at is None
            ],
            acting_for={
                a.organisation_id: a.acting_for
                for a in approvers
                if a.step_id == step.id and a.replaced_at is None and a.acting_for
            },
            due_at=step.due_at,
            sla_working_days=step.sla_working_days,
            calendar_note=step.calendar_note,
            decisions=[
                StepDecision(**attributes(d, DECISION_AS_STORED), decided_at=d.created_at)
                for d in decisions
                if d.step_id == step.id
            ],
        )
        for step in steps
    ]


async def parties(
    session: AsyncSession, request: DataRequest
) -> tuple[dict[str, str], TaskDataset | None]:
    """The requester and the dataset (None for a demand or an IT project) as a task names them."""
    requester, dataset = await routes.parties_of(session, request.requester_id, request.dataset_id)
    assert requester is not None
    return task_parties(request, requester, dataset)


Parties = tuple[dict[str, str], TaskDataset | None]


def task_parties(
    request: DataRequest,
    requester: Organisation | OrganisationRow,
    dataset: Dataset | DatasetRow | None,
) -> Parties:
    """The requester and the dataset as a task names them, from rows the caller has read."""
    return (
        {"id": requester.id, "name": requester.name, "name_en": requester.name_en},
        _task_dataset(request, dataset),
    )


class TaskOptions(TypedDict, total=False):
    """Which task approvers are sent (an escalation's, a reminder's; else a request's), and
    `delegates_of`: who may decide for each approver's CDO now, when the caller already knows
    (filing does); `parties`: the requester and the dataset as a task names them, when the
    caller has read them (filing does, as plain rows: `task_parties`)."""

    escalated: bool
    reminder: bool
    delegates_of: Mapping[str, list[str]] | None
    parties: Parties


async def approval_tasks(
    session: AsyncSession,
    request: DataRequest,
    step: RequestStep,
    new_approvers: Sequence[StepApprover],
    route: list[RouteStep],
    *,
    now: datetime,
    links: Links,
    **options: Unpack[TaskOptions],
) -> None:
    """One task per approver that must now decide, keyed by its organisation."""
    known = options.get("parties")
    requester, dataset = known if known is not None else await parties(session, request)
    assert step.due_at is not None
    task_name: Literal["approval.requested", "approval.escalated", "approval.reminder"] = (
        "approval.reminder"
        if options.get("reminder")
        else "approval.escalated"
        if options.get("escalated")
        else "approval.requested"
    )
    delegates_of = options.get("delegates_of")
    # the same for each approver of the step
    about: dict[str, Any] = {
        "task": task_name,
        "request_id": request.id,
        "step": step.index,
        "role": step.role,
        "required": step.required,
        "due_at": step.due_at,
        "kind": request.kind,
        "purpose": request.purpose,
        "legal_basis": request.legal_basis,
        "jurisdiction": request.jurisdiction,
        "trace_id": request.trace_id,
        "requester": requester,
        "dataset": dataset,
        "demand": _task_demand(request),
        "project": _task_project(request),
        "fields": list(request.granted_fields),
        "period": Period(start=request.granted_start, end=request.granted_end),
        "route": route,
        "decision_url": links.decision(request.id),
        "console_url": links.console(request.id),
        "occurred_at": now,
    }
    for approver in new_approvers:
        delegates = (
            delegates_of.get(approver.organisation_id, [])
            if delegates_of is not None
            else await authority.delegate_orgs_of(session, approver.organisation_id, now)
        )
        # a delegate that filed the request may not decide it: it is not told to
        delegates = [d for d in delegates if d != request.requester_id]
        task = ApprovalTask(
            approver_id=approver.organisation_id,
            acting_for=approver.acting_for,
            escalated_from=approver.escalated_from,
            delegate_ids=delegates,
            **about,
        )
        task_type = ce_type("approval", task_name.removeprefix("approval."))
        await _record(session, request, topics.APPROVALS, approver.organisation_id, task_type, task)


def _task_dataset(request: DataRequest, dataset: Dataset | DatasetRow | None) -> TaskDataset | None:
    """The dataset with the catalog attributes a CDO judges by, and the flags of the fields
    the approval would grant."""
    if request.dataset_id is None:
        return None
    assert dataset is not None
    granted = set(request.granted_fields)
    return TaskDataset(
        **attributes(dataset, _CATALOGUED),
        fields=[
            FieldOut(
                name=f["name"],
                label=f["label"],
                personal=bool(f.get("personal")),
                sensitive=bool(f.get("sensitive")),
            )
            for f in dataset.fields
            if f["name"] in granted
        ],
    )


def _task_demand(request: DataRequest) -> TaskDemand | None:
    if request.kind != "demand":
        return None
    assert request.description is not None
    return TaskDemand(description=request.description, presumed_provider_id=request.provider_id)


def _task_project(request: DataRequest) -> TaskProject | None:
    return TaskProject.model_validate(request.project) if request.project else None
