"""Moving a request along its route: starting steps (`begin_step`, then its approvers told),
moving on once a step is decided (`advance_if_decided`, after each decision), finishing it
approved or rejected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Required, TypedDict, Unpack

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit.actor import Actor
from broker.directory.repository import DirectorySnapshot
from broker.grants.service import issue_grant
from broker.requests import publish
from broker.requests.demands import draft_entry
from broker.requests.lifecycle import (
    RequestStatus,
    StepOutcome,
    StepStatus,
    can_transition,
    step_outcome,
)
from broker.requests.links import Links
from broker.requests.repository import routes
from broker.requests.step_clock import start_clock
from broker.routing.model import DATASET_KINDS
from core.events import RequestEventName
from core.ids import new_id
from core.models.grants import Grant
from core.models.requests import DataRequest, Decision, RequestStep, StepApprover


@dataclass
class Route:
    """A request's steps, approvers and decisions, loaded once per change."""

    steps: list[RequestStep]
    approvers: list[StepApprover]
    decisions: list[Decision]

    def step(self, index: int) -> RequestStep:
        return self.steps[index]

    def current_approvers(self, step: RequestStep) -> list[StepApprover]:
        return [a for a in self.approvers if a.step_id == step.id and a.replaced_at is None]

    def decisions_on(self, step: RequestStep) -> list[Decision]:
        return [d for d in self.decisions if d.step_id == step.id]

    def undecided_approvers(self, step: RequestStep) -> list[StepApprover]:
        """The step's current approvers still to decide: whom a reminder or a lapse is about."""
        decided = {d.organisation_id for d in self.decisions_on(step)}
        return [a for a in self.current_approvers(step) if a.organisation_id not in decided]


class Seat(TypedDict, total=False):
    """A body's seat on a step: whom it acts for, whom it took over from, since when."""

    organisation_id: Required[str]
    acting_for: str | None
    escalated_from: str | None
    added_at: Required[datetime]


def approver_row(step: RequestStep, **seat: Unpack[Seat]) -> StepApprover:
    """A seat on `step`: planned at filing, or taken over from `escalated_from`."""
    return StepApprover(id=new_id("apv"), step_id=step.id, request_id=step.request_id, **seat)


def replace_approver(
    session: AsyncSession,
    route: Route,
    step: RequestStep,
    approver: StepApprover,
    organisation_id: str,
    *,
    acting_for: str | None,
    now: datetime,
) -> StepApprover:
    """`approver` retires from `step` and `organisation_id` takes its seat (an escalation or a
    hand-over); written at the next flush."""
    approver.replaced_at = now
    new = approver_row(
        step,
        organisation_id=organisation_id,
        acting_for=acting_for,
        escalated_from=approver.organisation_id,
        added_at=now,
    )
    session.add(new)
    route.approvers.append(new)
    return new


async def load_route(session: AsyncSession, request_id: str) -> Route:
    return Route(
        steps=list(await routes.steps_of(session, [request_id])),
        approvers=list(await routes.approvers_of(session, [request_id])),
        decisions=list(await routes.decisions_of(session, [request_id])),
    )


def begin_step(request: DataRequest, step: RequestStep, now: datetime) -> None:
    """What starting a step changes: it is the step awaiting decisions, its clock runs from `now`.
    Filing applies it to the first step before the rows are first written (which saves two
    UPDATEs per filing); `advance_if_decided` to every later one."""
    step.status = StepStatus.pending
    step.started_at = now
    start_clock(step, now)
    request.current_step = step.index


async def tell_approvers(
    session: AsyncSession,
    request: DataRequest,
    route: Route,
    step: RequestStep,
    approvers: Sequence[StepApprover],
    *,
    now: datetime,
    links: Links,
    **options: Unpack[publish.TaskOptions],
) -> None:
    """An approval task for each of `approvers`, with the route as it now stands."""
    summary = publish.route_summary(route.steps, route.approvers, route.decisions)
    await publish.approval_tasks(
        session, request, step, approvers, summary, now=now, links=links, **options
    )


def _finish(request: DataRequest, status: RequestStatus, now: datetime, reason: str | None) -> None:
    if not can_transition(RequestStatus(request.status), status):
        raise AssertionError(f"{request.id}: {request.status} -> {status} is not a transition")
    request.status = status
    request.status_reason = reason
    request.current_step = None
    request.decided_at = now
    request.updated_at = now


async def approve_request(
    session: AsyncSession,
    request: DataRequest,
    decisions: Sequence[Decision],
    *,
    now: datetime,
    actor: Actor,
) -> Grant | None:
    """A share or return is granted now; a demand becomes a draft catalog entry (its grant
    follows the entry's publication); an IT project that passes grants nothing."""
    _finish(request, RequestStatus.approved, now, None)
    await session.flush()
    grant = None
    if request.kind in DATASET_KINDS:
        grant = await issue_grant(session, request, [d.id for d in decisions], now=now, actor=actor)
    elif request.kind == "demand":
        await draft_entry(session, request, now=now, actor=actor)
    await publish.request_event(
        session,
        request,
        RequestEventName.approved,
        now=now,
        actor=actor.org_id,
        grant_id=grant.id if grant else None,
    )
    return grant


async def close_early(
    session: AsyncSession,
    request: DataRequest,
    status: RequestStatus,
    *,
    now: datetime,
    actor: Actor,
    reason: str,
) -> None:
    """Closed from outside its route, before it was decided: withdrawn by its requester, or
    expired by the clock (`actor` SYSTEM: the event names no body)."""
    route = await load_route(session, request.id)
    await close_request(session, request, route, status, now=now, actor=actor.org_id, reason=reason)


async def close_request(
    session: AsyncSession,
    request: DataRequest,
    route: Route,
    status: RequestStatus,
    *,
    now: datetime,
    actor: str | None,
    reason: str | None,
) -> None:
    """Rejected, cancelled or expired: open steps are cancelled, nothing is granted."""
    for step in route.steps:
        if step.status in (StepStatus.waiting, StepStatus.pending, StepStatus.on_hold):
            step.status = StepStatus.cancelled
            step.on_hold_since = None
    _finish(request, status, now, reason)
    await session.flush()
    await publish.request_event(
        session, request, RequestEventName(status.value), now=now, actor=actor, reason=reason
    )


async def advance_if_decided(
    session: AsyncSession,
    request: DataRequest,
    route: Route,
    step: RequestStep,
    *,
    now: datetime,
    links: Links,
    actor: Actor,
    directory: DirectorySnapshot,
) -> str | None:
    """After a decision on `step`: moves the request on if the step is decided (the next step
    started, or the request closed or approved); the grant issued, if it was (None: none)."""
    decisions = route.decisions_on(step)
    outcome = step_outcome(
        required=step.required,
        approvals=sum(d.decision == "approve" for d in decisions),
        rejections=sum(d.decision != "approve" for d in decisions),
        approvers=len(route.current_approvers(step)),
    )
    if outcome is StepOutcome.open:
        return None
    step.decided_at = now
    step.on_hold_since = None
    if outcome is StepOutcome.rejected:
        step.status = StepStatus.rejected
        refusal = next(d for d in decisions if d.decision != "approve")
        await close_request(
            session,
            request,
            route,
            RequestStatus.vetoed if refusal.decision == "veto" else RequestStatus.rejected,
            now=now,
            actor=actor.org_id,
            reason=refusal.comment,
        )
        return None
    step.status = StepStatus.approved
    if step.index + 1 < len(route.steps):
        # the next step starts and its approvers are told, as filing starts the first
        following = route.step(step.index + 1)
        begin_step(request, following, now)
        await tell_approvers(
            session,
            request,
            route,
            following,
            route.current_approvers(following),
            now=now,
            links=links,
            delegates_of=directory.delegates,
        )
        return None
    approvals = [d for d in route.decisions if d.decision == "approve"]
    grant = await approve_request(session, request, approvals, now=now, actor=actor)
    return grant.id if grant else None
