"""Requests as the API shows them: the request with its whole route."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from broker.kit.attributes import attributes
from broker.requests.appeals import may_have_appeal
from broker.requests.attributes import DECISION_AS_STORED, REQUEST_AS_STORED
from broker.requests.filing.schemas import ProjectIn
from broker.requests.filing.service import Filed
from broker.requests.lifecycle import RequestStatus
from broker.requests.progress import Route
from broker.requests.repository import authority, routes
from broker.requests.repository.appeals import appeals_of
from broker.requests.schemas import (
    AppealOut,
    ApproverOut,
    CoordinatorOut,
    DecisionOut,
    Period,
    PersonRef,
    RequestOut,
    StepOut,
)
from core.models.requests import (
    Appeal,
    AppealCoordinator,
    DataRequest,
    Decision,
    RequestStep,
    StepApprover,
)

# What the API shows of each as it is stored; what it says otherwise is said where it is built.
_REQUEST_SHOWN_AS_STORED = (
    "id",
    "status_reason",
    "description",
    "purpose",
    "legal_basis",
    "jurisdiction",
    "routing_rule",
    "current_step",
    "created_at",
    "updated_at",
    "decided_at",
)
_STEP_AS_STORED = (
    "index",
    "role",
    "status",
    "required",
    "sla_working_days",
    "sla_seconds",
    "started_at",
    "due_at",
    "calendar_note",
    "on_hold_since",
    "escalations",
)
_APPEAL_AS_STORED = (
    "id",
    "status",
    "grounds",
    "reason",
    "due_at",
    "comment",
    "narrowing",
    "created_at",
    "decided_at",
)


def _person(person_id: str | None, name: str | None) -> PersonRef | None:
    """Who decided, as a decision or an appeal records it; None: a system decided."""
    return PersonRef(id=person_id, name=name or "") if person_id else None


def _step_out(
    step: RequestStep,
    approvers: Sequence[StepApprover],
    decisions: Sequence[Decision],
    cdo_names: Mapping[str, str],
) -> StepOut:
    return StepOut(
        **attributes(step, _STEP_AS_STORED),
        approvers=[
            ApproverOut(
                organisation_id=a.organisation_id,
                acting_for=a.acting_for,
                escalated_from=a.escalated_from,
                current=a.replaced_at is None,
                cdo=cdo_names.get(a.organisation_id),
            )
            for a in approvers
            if a.step_id == step.id
        ],
        decisions=[
            DecisionOut(
                **attributes(
                    d, (*DECISION_AS_STORED, "id", "narrowing", "created_at", "signature")
                ),
                decided_by_person=_person(d.decided_by_person_id, d.decided_by_person_name),
            )
            for d in decisions
            if d.step_id == step.id
        ],
    )


async def describe(
    session: AsyncSession, requests: Sequence[DataRequest], now: datetime
) -> list[RequestOut]:
    ids = [r.id for r in requests]
    if not ids:
        return []
    steps = await routes.steps_of(session, ids)
    approvers = await routes.approvers_of(session, ids)
    decisions = await routes.decisions_of(session, ids)
    grants = await routes.grants_of(session, ids)
    cdo_names = await authority.active_cdo_names(
        session, sorted({a.organisation_id for a in approvers}), now
    )
    appeals, seats = await appeals_of(session, ids)
    return [
        _request_out(
            r,
            [s for s in steps if s.request_id == r.id],
            approvers,
            decisions,
            grants.get(r.id),
            cdo_names,
        ).model_copy(update={"appeal": _appeal_out(appeals.get(r.id), seats)})
        for r in requests
    ]


@dataclass(frozen=True)
class Known:
    """What a change that just decided a step knows of its answer without reading it: the grant
    it issued (None: none) and the approvers' CDOs' names (from the directory snapshot its lock
    saw); and that the request has no appeal (it was open under the change's lock, and only a
    closed request is appealed)."""

    grant_id: str | None
    cdo_names: Mapping[str, str]


async def describe_routed(
    session: AsyncSession,
    request: DataRequest,
    route: Route,
    now: datetime,
    known: Known | None = None,
) -> RequestOut:
    """One request whose route this transaction loaded and changed (a decision): as `describe`
    shows it, without reading the route again, nor what `known` says. The route's lists keep
    `describe`'s order: rows added to it are appended, and they are the newest. Otherwise only
    what may exist is read: a grant of an approved request, an appeal of one closed as
    appealable."""
    if known is not None:
        grant_id, cdo_names, appeal = known.grant_id, known.cdo_names, None
    else:
        grant_id = (
            (await routes.grants_of(session, [request.id])).get(request.id)
            if request.status == RequestStatus.approved
            else None
        )
        cdo_names = await authority.active_cdo_names(
            session, sorted({a.organisation_id for a in route.approvers}), now
        )
        appeal = await _appeal_of(session, request) if may_have_appeal(request) else None
    return _request_out(
        request, route.steps, route.approvers, route.decisions, grant_id, cdo_names
    ).model_copy(update={"appeal": appeal})


async def _appeal_of(session: AsyncSession, request: DataRequest) -> AppealOut | None:
    appeals, seats = await appeals_of(session, [request.id])
    return _appeal_out(appeals.get(request.id), seats)


def _appeal_out(appeal: Appeal | None, seats: Sequence[AppealCoordinator]) -> AppealOut | None:
    if appeal is None:
        return None
    return AppealOut(
        **attributes(appeal, _APPEAL_AS_STORED),
        against=list(appeal.against),
        route=[
            CoordinatorOut(
                organisation_id=s.organisation_id,
                escalated_from=s.escalated_from,
                current=s.replaced_at is None,
                added_at=s.added_at,
            )
            for s in seats
            if s.appeal_id == appeal.id
        ],
        decided_by=appeal.decided_by_org_id,
        decided_by_person=_person(appeal.decided_by_person_id, appeal.decided_by_person_name),
    )


def describe_filed(filed: Filed) -> RequestOut:
    """A request filed just now, from what filing wrote, without reading it back."""
    assert filed.route is not None  # created now
    route = filed.route
    return _request_out(
        filed.request,
        route.steps,
        route.approvers,
        route.decisions,
        filed.grant_id,
        filed.cdo_names,
    )


def _request_out(
    r: DataRequest,
    steps: Sequence[RequestStep],
    approvers: Sequence[StepApprover],
    decisions: Sequence[Decision],
    grant_id: str | None,
    cdo_names: Mapping[str, str],
) -> RequestOut:
    return RequestOut(
        **attributes(r, (*REQUEST_AS_STORED, *_REQUEST_SHOWN_AS_STORED)),
        project=ProjectIn.model_validate(r.project) if r.project else None,
        fields=list(r.fields),
        period=Period(start=r.period_start, end=r.period_end),
        granted_fields=list(r.granted_fields),
        granted_period=Period(start=r.granted_start, end=r.granted_end),
        route=[_step_out(s, approvers, decisions, cdo_names) for s in steps],
        grant_id=grant_id,
    )
