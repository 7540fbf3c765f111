"""Whom a caller may act for (its own organisation, and bodies whose CDO delegated to it), and
when it is its turn on a request.

What a delegate sees is narrower than what the body sees: a delegation lets it decide, so it sees
the requests its delegator must decide, never the ones its delegator filed. Whose turn it is
(CONTRACT v2, "Authority"): a current approver of the current step whose CDO is in office (a data
bureau decides as the level's authority even between CDOs), or a body that CDO delegated to;
never the requester, not even through a delegation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit.actor import Actor
from broker.kit.tracing import follow_request
from broker.requests.exceptions import CDONotInOffice, RequesterCannotDecide, RequestNotFound
from broker.requests.progress import Route, load_route
from broker.requests.repository import authority, listing, locks
from broker.routing.model import OWN_CDO_KINDS
from core.models.catalog import Dataset
from core.models.directory import Appointment, Delegation, Organisation, OrgKind
from core.models.requests import DataRequest, RequestStep, StepApprover


@dataclass(frozen=True)
class Acting:
    actor: Actor  # who calls, as the audit log names it
    delegated: dict[str, tuple[Delegation, Appointment]]  # approver org -> delegation in force

    @property
    def own(self) -> str:
        return self.actor.organisation

    @property
    def org_ids(self) -> list[str]:
        """The bodies whose approvals this caller may give: its own and its delegators'."""
        return [self.own, *self.delegated]


async def acting_for(session: AsyncSession, actor: Actor, now: datetime) -> Acting:
    org_id = actor.organisation
    delegations = await authority.active_delegations_to(session, org_id, now)
    return Acting(
        actor=actor,
        delegated={
            appointment.organisation_id: (delegation, appointment)
            for delegation, appointment in delegations
            if appointment.organisation_id != org_id
        },
    )


async def locked_visible(session: AsyncSession, request_id: str, acting: Acting) -> DataRequest:
    request = await locks.lock_request(session, request_id)
    if (
        request is None
        or await listing.visible_request(session, request_id, acting.own, acting.org_ids) is None
    ):
        raise RequestNotFound(request_id)
    follow_request(request.id, request.trace_id, request.span_id)
    return request


def _involved_on(request: DataRequest, route: Route, acting: Acting) -> bool:
    """`listing.visible_request`'s rule as far as the route answers it: the caller filed the
    request, or it or a delegator has a seat on a step (an appeal's coordinators are asked of
    the database)."""
    return request.requester_id == acting.own or any(
        a.organisation_id in acting.org_ids for a in route.approvers
    )


class Turn(NamedTuple):
    """A request locked for a change by the caller, as `turn_of` reads it."""

    request: DataRequest
    route: Route
    step: RequestStep | None  # the current step (None: the request is closed)
    approver: StepApprover | None  # the caller's seat on it (None: not the caller's turn)
    directory_version: tuple[int, ...]  # as the lock saw it (`locks.lock_request_with_parties`)
    # The requester and the dataset, read with the lock: a caller that keeps them referenced
    # (the session's identity map holds a row only while it is) has them for the task of a step
    # it opens (publish.parties) without reading them again.
    parties: tuple[Organisation, Dataset | None]


async def turn_of(session: AsyncSession, request_id: str, acting: Acting) -> Turn:
    """The request (locked), its route, its current step and the caller's place on it. The
    requester is refused here: it has no turn on its own request. Whether the caller may see the
    request is judged on the route, read under the lock (one statement fewer than
    `locked_visible`); the database is asked only when the route says no."""
    locked = await locks.lock_request_with_parties(session, request_id)
    if locked is None:
        raise RequestNotFound(request_id)
    request = locked.request
    route = await load_route(session, request.id)
    if (
        not _involved_on(request, route, acting)
        and await listing.visible_request(session, request_id, acting.own, acting.org_ids) is None
    ):
        raise RequestNotFound(request_id)
    follow_request(request.id, request.trace_id, request.span_id)
    refuse_the_requester(request, acting)
    step = route.step(request.current_step) if request.current_step is not None else None
    approver = _approver_for(route, step, acting) if step is not None else None
    return Turn(
        request, route, step, approver, locked.directory_version, (locked.requester, locked.dataset)
    )


def _approver_for(route: Route, step: RequestStep, acting: Acting) -> StepApprover | None:
    current = route.current_approvers(step)
    for approver in current:  # acting as itself first, then as a delegate
        if approver.organisation_id == acting.own:
            return approver
    for approver in current:
        if approver.organisation_id in acting.delegated:
            return approver
    return None


def refuse_the_requester(request: DataRequest, acting: Acting) -> None:
    """Separation of duties: routing never makes the requester an approver, and this holds it
    for any other path (a delegation to the requester, a route planned before the rule)."""
    if request.kind in OWN_CDO_KINDS:
        return  # its own CDO decides by design; requests/separation.py holds it by person
    if request.requester_id == acting.own:
        raise RequesterCannotDecide(
            f"'{acting.own}' filed this request: the requester never decides it, "
            "neither as an approver nor as anybody's delegate",
            detail_zh=f"“{acting.own}”提交了该申请，不能作为审批单位或受托人审批",
        )


class Office(NamedTuple):
    """What a decision is made under: the delegation (if the caller decides as a delegate), the
    CDO appointment in force, and the approver body when it was read for this (not for a
    delegate: None)."""

    delegation: Delegation | None
    appointment: Appointment | None
    body: Organisation | None


async def in_office(
    session: AsyncSession, approver: StepApprover, acting: Acting, now: datetime
) -> Office:
    """The delegation and the CDO appointment in force the caller decides under; 403
    `cdo-not-in-office` when the approver's CDO appointment has ended. A data bureau decides as
    its level's authority even with no CDO in office (routing counts it so)."""
    if approver.organisation_id != acting.own:
        # acting.delegated holds only delegations whose appointment is in force now
        return Office(*acting.delegated[approver.organisation_id], body=None)
    body, appointment = await authority.office_of(session, acting.own, now)
    if appointment is None and (body is None or body.kind != OrgKind.data_bureau):
        raise CDONotInOffice(
            f"'{acting.own}' has no CDO in office: its open steps pass to its level's data "
            "bureau, and it decides nothing until a new appointment starts",
            detail_zh=f"“{acting.own}”无在任首席数据官：其待办已转由本级数据管理局办理，"
            "新的任命生效前不能审批",
        )
    return Office(None, appointment, body)
