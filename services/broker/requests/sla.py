"""The SLA job: overdue steps escalate up the chain, requests whose period ended expire, and so
do grants past their window.

Every broker process runs it. Overdue steps are taken with SELECT ... FOR UPDATE SKIP LOCKED and
their deadline moves in the same transaction, so each lapse escalates exactly once; the unique
(step, sequence) constraint on escalations is the backstop. Each step or request is handled in a
transaction of its own: a pass that held a hundred requests' locks to its end made every decision
on them wait for it.

Each escalation, expiry and hand-over leaves an audit row naming the broker itself (SYSTEM) as
the actor. Each escalation and expiry is a trace of its own (the job has no caller), linked to
the request's first trace, and its log lines name the request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.audit import service as audit
from broker.audit.actor import SYSTEM
from broker.directory import repository as directory_repository
from broker.grants.service import expire_grants
from broker.kit.tracing import link_to
from broker.requests import publish
from broker.requests.appeal_moves import escalate_one_appeal, hand_over_appeals
from broker.requests.handover import hand_over_request
from broker.requests.lifecycle import RequestStatus
from broker.requests.links import Links
from broker.requests.progress import close_early, load_route, replace_approver, tell_approvers
from broker.requests.repository import authority, sweeps
from broker.requests.step_clock import start_clock
from broker.routing.model import DirectoryView
from broker.routing.plan import escalation_target
from broker.routing.policy import Policy
from core.clock import utcnow
from core.events import RequestEventName
from core.ids import new_id
from core.logs import about_request
from core.metrics import instruments
from core.models.requests import DataRequest, Escalation, RequestStep, StepApprover
from core.supervisor import Backoff, Supervisor

logger = logging.getLogger(__name__)
BATCH = 100
T = TypeVar("T")


async def escalate_step(
    session: AsyncSession,
    step: RequestStep,
    *,
    directory: DirectoryView,
    policy: Policy,
    now: datetime,
    links: Links,
) -> Escalation | None:
    request = await session.get(DataRequest, step.request_id)
    assert request is not None
    route = await load_route(session, request.id)
    lapsed = route.undecided_approvers(step)
    planned = {a.organisation_id for a in route.approvers}
    step.escalations += 1
    step.reminded_at = None  # the new approver is reminded before its own deadline
    start_clock(step, now)  # the new approver's own SLA
    first: Escalation | None = None
    new_approvers: list[StepApprover] = []
    moves: list[dict[str, str | None]] = []
    for approver in lapsed:
        target = escalation_target(
            approver.organisation_id, directory, policy.escalation, request.requester_id
        )
        appointment = await authority.active_appointment(session, approver.organisation_id, now)
        escalation = Escalation(
            id=new_id("esc"),
            request_id=request.id,
            step_id=step.id,
            sequence=step.escalations * 100 + len(new_approvers),
            lapsed_org_id=approver.organisation_id,
            lapsed_appointment_id=appointment.id if appointment else None,
            to_org_id=target,
            due_at=step.due_at,
            created_at=now,
        )
        session.add(escalation)
        lapsed_org = directory.organisations.get(approver.organisation_id)
        instruments().sla_breaches.add(1, {"level": lapsed_org.level if lapsed_org else "unknown"})
        instruments().escalations.add(1, {"to": "none" if target is None else "up"})
        first = first or escalation
        moves.append({"from": approver.organisation_id, "to": target})
        if target is None or target in planned:
            continue  # nobody further up, or already deciding in this route: the lapse is recorded
        new = replace_approver(
            session, route, step, approver, target, acting_for=approver.acting_for, now=now
        )
        new_approvers.append(new)
        planned.add(target)
    await session.flush()
    await publish.request_event(
        session,
        request,
        RequestEventName.escalated,
        now=now,
        actor=None,
        step=step.index,
        moves=moves,
    )
    await audit.record(
        session, "request.escalated", actor=SYSTEM, subject=request.id, now=now,
        step=step.index, moves=moves,
    )  # fmt: skip
    if new_approvers:
        await tell_approvers(
            session, request, route, step, new_approvers, now=now, links=links,
            escalated=True,
        )  # fmt: skip
    return first


async def remind(session: AsyncSession, step: RequestStep, *, now: datetime, links: Links) -> None:
    """Once per step and approver set: the deadline is near (policy `reminder_before_seconds`)."""
    request = await session.get(DataRequest, step.request_id)
    assert request is not None
    route = await load_route(session, request.id)
    waiting = route.undecided_approvers(step)
    step.reminded_at = now
    await session.flush()
    await tell_approvers(
        session, request, route, step, waiting, now=now, links=links, reminder=True
    )


@contextmanager
def _job_span(tracer: trace.Tracer, name: str, request: DataRequest) -> Iterator[None]:
    with (
        tracer.start_as_current_span(
            name,
            context=otel_context.Context(),  # a root: the job acts on its own
            links=[link_to(request.trace_id, request.span_id)],
            attributes={"cdo.request_id": request.id},
        ),
        about_request(request.id, request.trace_id),
    ):
        yield


async def run_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    policy: Policy,
    links: Links,
    tracer: trace.Tracer | None = None,
) -> int:
    """One pass: returns how many steps escalated or were reminded, and grants and requests
    expired. Each step and request is taken and handled in a transaction of its own, so the pass
    holds one request's lock at a time and a decision on any other request never waits for it."""
    tracer = tracer or trace.get_tracer(__name__)
    now = utcnow()
    directory: DirectoryView | None = None

    async def escalate(session: AsyncSession) -> bool:
        nonlocal directory
        step = _first(await sweeps.overdue_steps(session, now, 1))
        if step is None:
            return False
        if directory is None:
            directory = (await directory_repository.directory_snapshot(session, now)).view
        request = await session.get(DataRequest, step.request_id)
        assert request is not None
        with _job_span(tracer, "sla escalate", request):
            await escalate_step(
                session, step, directory=directory, policy=policy, now=now, links=links
            )
        return True

    async def remind_one(session: AsyncSession) -> bool:
        step = _first(await sweeps.steps_to_remind(session, now, policy.reminder_before_seconds, 1))
        if step is None:
            return False
        await remind(session, step, now=now, links=links)
        return True

    async def expire(session: AsyncSession) -> bool:
        request = _first(await sweeps.lapsed_requests(session, now, 1))
        if request is None:
            return False
        with _job_span(tracer, "sla expire", request):
            await close_early(
                session,
                request,
                RequestStatus.expired,
                now=now,
                actor=SYSTEM,
                reason="the period asked for ended before the route was decided",
            )
            await audit.record(
                session, "request.expired", actor=SYSTEM, subject=request.id, now=now
            )
        return True

    async def escalate_appeal(session: AsyncSession) -> bool:
        return await escalate_one_appeal(session, now=now, policy=policy, links=links)

    done = await _hand_over(sessionmaker, policy=policy, links=links, now=now)
    for handle in (escalate, remind_one, expire, escalate_appeal):
        done += await _one_at_a_time(sessionmaker, handle)
    async with sessionmaker() as session, session.begin():
        done += await expire_grants(session, now=now, limit=BATCH)
    return done


async def _hand_over(
    sessionmaker: async_sessionmaker[AsyncSession], *, policy: Policy, links: Links, now: datetime
) -> int:
    """Steps of bodies whose CDO appointment ended by its date pass to their stand-ins (see
    requests/handover.py), each request in a transaction of its own; then the appeals they
    coordinate pass up (requests/appeal_moves.py). Ones with nobody to pass to are looked at
    again next pass: rare, and the query is bounded."""
    async with sessionmaker() as session:
        request_ids = await sweeps.requests_without_cdo(session, now, limit=BATCH)
        directory = (
            (await directory_repository.directory_snapshot(session, now)).view
            if request_ids
            else None
        )
    moved = 0
    for request_id in request_ids:
        assert directory is not None
        async with sessionmaker() as session, session.begin():
            moved += await hand_over_request(
                session, request_id, directory=directory, policy=policy, now=now,
                links=links, actor=SYSTEM,
            )  # fmt: skip
    async with sessionmaker() as session, session.begin():
        moved += await hand_over_appeals(session, now=now, policy=policy, links=links, actor=SYSTEM)
    return moved


def _first(rows: Sequence[T]) -> T | None:
    return rows[0] if rows else None


async def _one_at_a_time(
    sessionmaker: async_sessionmaker[AsyncSession],
    handle: Callable[[AsyncSession], Awaitable[bool]],
) -> int:
    """Up to BATCH rounds of `handle`, each in a session and transaction of its own (no object
    outlives the lock it was read under); stops at the first round that finds nothing."""
    count = 0
    while count < BATCH:
        async with sessionmaker() as session, session.begin():
            if not await handle(session):
                break
        count += 1
    return count


async def run_forever(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    policy: Policy,
    links: Links,
    interval_s: float,
    stop: asyncio.Event,
    tracer: trace.Tracer | None = None,
) -> None:
    """A pass every `interval_s` until `stop`. With PostgreSQL away a pass fails and is tried
    again after a backoff (at most `interval_s`): the overdue steps wait, nothing is lost."""

    async def passes() -> float:
        while await run_once(sessionmaker, policy=policy, links=links, tracer=tracer) >= BATCH:
            pass  # a backlog: keep going without waiting
        return interval_s

    backoff = Backoff(first_s=min(1.0, interval_s), cap_s=interval_s)
    await Supervisor("sla-job", backoff=backoff).run(passes, stop)
