"""What a CDO does to an open request: decide it (the requester withdraws it in
requests/withdrawal.py). Whose turn it is: requests/access.py; what the step's decisions then do
to the request: requests/progress.py (`advance_if_decided`). `decide` hands back the route it
loaded and changed, and the answer is built from it (views.describe_routed), not read again; a
decision made now hands back too what it knows of the rest (views.Known): the grant it issued,
and its approvers' CDOs' names from the directory snapshot, exact at the moment the request's
lock read the directory's version, which also names the next step's delegates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.directory import repository as directory_repository
from broker.oauth.keys import KeyRing
from broker.people.authority import deciding_person
from broker.requests import publish
from broker.requests.access import Acting, in_office, turn_of
from broker.requests.exceptions import (
    DecisionConflict,
    InvalidDecision,
    NotTheApprover,
    RequestClosed,
)
from broker.requests.filing.schemas import PeriodIn
from broker.requests.lifecycle import (
    FINAL_STATUSES,
    Grantable,
    RequestStatus,
    Widening,
    narrow,
    refusal_for,
    sla_clock_seconds,
)
from broker.requests.links import Links
from broker.requests.minimisation import require_minimisation_reason
from broker.requests.progress import Route, advance_if_decided
from broker.requests.schemas import DecisionIn, narrowing_record
from broker.requests.separation import refuse_the_filer
from broker.requests.signing import sign_decision
from broker.requests.step_clock import working_clock_seconds
from broker.requests.views import Known
from core.events import RequestEventName
from core.ids import new_id
from core.metrics import instruments
from core.models.directory import Appointment, Delegation, Organisation
from core.models.people import Person
from core.models.requests import DataRequest, Decision, RequestStep, StepApprover
from core.words import DECISIONS_ZH, KINDS_ZH, STATUS_ZH, said


def _same_decision(existing: Decision, body: DecisionIn) -> bool:
    return existing.decision == body.decision and existing.narrowing == _narrowing(body)


def _narrowing(body: DecisionIn) -> dict[str, object] | None:
    return narrowing_record(body.fields, body.period)


def narrowed_to(granted: Grantable, fields: list[str] | None, period: PeriodIn | None) -> Grantable:
    """`granted` narrowed to the decision's fields and period; widening it is refused (422
    naming the field)."""
    try:
        return narrow(
            granted,
            fields=fields,
            start=period.start if period else None,
            end=period.end if period else None,
        )
    except Widening as exc:
        raise InvalidDecision(str(exc), detail_zh=exc.zh, field=exc.field) from exc


def _earlier_decision(route: Route, acting: Acting) -> Decision | None:
    return next((d for d in reversed(route.decisions) if d.organisation_id in acting.org_ids), None)


async def decide(
    session: AsyncSession,
    *,
    request_id: str,
    acting: Acting,
    body: DecisionIn,
    now: datetime,
    links: Links,
    keyring: KeyRing,
    require_person: bool = False,
) -> tuple[DataRequest, Route, Known | None]:
    """The request and its route as the decision leaves them (the answer is built from them, not
    read again), and what else the answer shows if a decision was made now (None: a repeat).
    `require_person` (DECISIONS_REQUIRE_PERSON): refuse decisions made without a person."""
    # `_parties` held to the end: the task of a step this opens finds them in the session
    request, route, step, approver, version, _parties = await turn_of(session, request_id, acting)
    if step is None or approver is None:
        # Not (or no longer) this caller's turn: a repeat of its earlier decision is idempotent.
        earlier = _earlier_decision(route, acting)
        if earlier is not None:
            if _same_decision(earlier, body):
                return request, route, None
            raise DecisionConflict(
                f"you already decided '{earlier.decision}' on this request",
                detail_zh=f"您已对该申请作出“{said(DECISIONS_ZH, earlier.decision)}”的审批意见",
                decision_id=earlier.id,
            )
        if RequestStatus(request.status) in FINAL_STATUSES:
            raise RequestClosed(
                f"the request is {request.status}",
                detail_zh=f"该申请的状态为“{said(STATUS_ZH, request.status)}”",
                request_status=request.status,
            )
        raise NotTheApprover(
            "the current step awaits another CDO",
            detail_zh="当前审批环节由其他单位审批",
            current_approvers=[a.organisation_id for a in route.current_approvers(step)]
            if step
            else [],
        )
    existing = next(
        (d for d in route.decisions_on(step) if d.organisation_id == approver.organisation_id), None
    )
    if existing is not None:
        if _same_decision(existing, body):
            return request, route, None
        raise DecisionConflict(
            f"'{approver.organisation_id}' already decided '{existing.decision}' on this step",
            detail_zh=f"“{approver.organisation_id}”已在本审批环节作出"
            f"“{said(DECISIONS_ZH, existing.decision)}”的审批意见",
            decision_id=existing.id,
        )

    delegation, appointment, approver_body = await in_office(session, approver, acting, now)
    person = await deciding_person(
        session,
        acting.actor,
        approver_org_id=approver.organisation_id,
        appointment=appointment,
        delegation=delegation,
        require_person=require_person,
    )
    refuse_the_filer(request, acting.actor, person)
    if body.decision != "approve" and body.decision != refusal_for(request.kind):
        refusal = refusal_for(request.kind)
        raise InvalidDecision(
            f"decision: a {request.kind} request is approved or "
            f"{'vetoed' if refusal == 'veto' else 'rejected'}",
            detail_zh=f"decision: {said(KINDS_ZH, request.kind)}只能同意或"
            f"{said(DECISIONS_ZH, refusal)}",
            field="decision",
        )
    granted = Grantable(tuple(request.granted_fields), request.granted_start, request.granted_end)
    if body.decision == "approve":
        granted = narrowed_to(granted, body.fields, body.period)
        await require_minimisation_reason(session, request, granted.fields, body)

    decision = await _record_decision(
        session,
        request,
        step,
        approver,
        acting,
        delegation,
        appointment,
        body,
        now,
        person,
        keyring,
    )
    # The level is a metric's label; acting for its own body, `in_office` read the body already.
    approver_org = approver_body or await session.get(Organisation, approver.organisation_id)
    level = approver_org.level if approver_org else "unknown"
    instruments().decisions.add(1, {"decision": decision.decision, "level": level})
    instruments().decision_seconds.record(decision.clock_seconds, {"level": level})
    # a veto's or a rejection's reason is part of the record (一票否决 is accounted for), in the
    # audit row and in the event alike
    reason = decision.comment if decision.decision != "approve" else None
    await audit.record(
        session,
        "decision.recorded",
        actor=acting.actor,
        subject=request.id,
        now=now,
        decision_id=decision.id,
        step=step.index,
        decision=decision.decision,
        on_behalf_of=approver.organisation_id,
        decided_by=decision.decided_by,
        decided_by_person=decision.decided_by_person_id,
        reason=reason,
    )
    route.decisions.append(decision)
    request.granted_fields = list(granted.fields)
    request.granted_start, request.granted_end = granted.start, granted.end
    request.updated_at = now
    await publish.request_event(
        session,
        request,
        RequestEventName.step_decided,
        now=now,
        actor=approver.organisation_id,
        step=step.index,
        decision=body.decision,
        decided_by=decision.decided_by,
        on_behalf_of=decision.on_behalf_of,
        reason=reason,
    )
    # Exact for this transaction: the version is the one the request's lock read.
    directory = await directory_repository.directory_snapshot(session, now, version)
    grant_id = await advance_if_decided(
        session, request, route, step, now=now, links=links, actor=acting.actor, directory=directory
    )
    approvers = {a.organisation_id for a in route.approvers}
    cdo_names = {o: n for o, n in directory.cdo_names.items() if o in approvers}
    return request, route, Known(grant_id, cdo_names)


async def _record_decision(
    session: AsyncSession,
    request: DataRequest,
    step: RequestStep,
    approver: StepApprover,
    acting: Acting,
    delegation: Delegation | None,
    appointment: Appointment | None,
    body: DecisionIn,
    now: datetime,
    person: Person | None,
    keyring: KeyRing,
) -> Decision:
    cdo_name = appointment.person_name if appointment else f"CDO of {approver.organisation_id}"
    assert step.started_at is not None
    decision = Decision(
        id=new_id("dec"),
        request_id=request.id,
        step_id=step.id,
        organisation_id=approver.organisation_id,
        appointment_id=appointment.id if appointment else None,
        delegation_id=delegation.id if delegation else None,
        decided_by=delegation.delegate_name if delegation else cdo_name,
        on_behalf_of=cdo_name if delegation else None,
        decided_by_person_id=person.id if person else None,
        decided_by_person_name=person.name if person else None,
        caller_org_id=acting.own,
        decision=body.decision,
        comment=body.comment,
        narrowing=_narrowing(body),
        clock_seconds=sla_clock_seconds(
            started_at=step.started_at,
            now=now,
            held_seconds=step.held_seconds,
            on_hold_since=step.on_hold_since,
        ),
        working_seconds=working_clock_seconds(step, now),
        created_at=now,
    )
    # Signed before it is written: the content signed is all set above, and one INSERT carries it.
    decision.signature = sign_decision(decision, step.index, keyring)
    session.add(decision)
    try:
        await session.flush()
    except IntegrityError as exc:
        # The request row lock makes this unreachable in practice; the constraint is the backstop.
        # No savepoint: the conflict refuses the whole decision, and the edge rolls it all back.
        raise DecisionConflict(
            "a decision on this step was made at the same moment",
            detail_zh="本审批环节同时收到了另一份审批意见",
        ) from exc
    return decision
