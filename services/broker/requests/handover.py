"""Only an active CDO decides (CONTRACT v2, "Authority"): when a body's CDO appointment ends,
the steps it was to decide pass at once to its level's data bureau, acting for it.

"At once" has two paths. Ending an appointment through the API, or a succession that leaves the
body without a CDO in office, hands its steps over in the same transaction. An appointment that
ends by its date (or is changed outside the API) is found by the SLA job's next pass. Each
hand-over retires the approver (`replaced_at`), adds the stand-in with `acting_for` and
`escalated_from` naming the body, records a `reassigned` request event, and sends the new
approver its approval task for a step already under way, and an audit row names who ended the
appointment (SYSTEM when the SLA job found it). The stand-in is chosen as planning
chooses it (`routing.plan.hand_over_target`): never the requester, never a body already
deciding in the route; when nobody is left the approver stays, decides nothing, and the step
escalates when its deadline passes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.audit.actor import Actor
from broker.directory.repository import directory_snapshot
from broker.requests import publish
from broker.requests.appeal_moves import hand_over_appeals
from broker.requests.lifecycle import StepStatus
from broker.requests.links import Links
from broker.requests.progress import Route, load_route, replace_approver, tell_approvers
from broker.requests.repository import locks, sweeps
from broker.requests.step_clock import start_clock
from broker.routing.model import DirectoryView
from broker.routing.plan import hand_over_target
from broker.routing.policy import Policy
from core.events import RequestEventName
from core.models.requests import DataRequest, RequestStep, StepApprover

_OPEN = (StepStatus.waiting, StepStatus.pending, StepStatus.on_hold)
BATCH = 100


async def hand_over_steps_of(
    session: AsyncSession,
    organisation_id: str,
    *,
    policy: Policy,
    now: datetime,
    links: Links,
    actor: Actor,
) -> int:
    """After `organisation_id`'s appointments changed: if it has no CDO in office now, its open
    steps pass on, and the appeals it coordinates pass up (requests/appeal_moves.py). Returns
    how many approvers and coordinators were replaced."""
    appeals = await hand_over_appeals(
        session, now=now, policy=policy, links=links, actor=actor, organisation_id=organisation_id
    )
    request_ids = await sweeps.requests_without_cdo(
        session, now, organisation_id=organisation_id, limit=BATCH
    )
    if not request_ids:
        return appeals
    directory = (await directory_snapshot(session, now)).view  # read in this transaction
    moved = appeals
    for request_id in request_ids:
        moved += await hand_over_request(
            session, request_id, directory=directory, policy=policy, now=now,
            links=links, actor=actor,
        )  # fmt: skip
    return moved


async def hand_over_request(
    session: AsyncSession,
    request_id: str,
    *,
    directory: DirectoryView,
    policy: Policy,
    now: datetime,
    links: Links,
    actor: Actor,
) -> int:
    """Passes on every approver of the request whose body has no CDO in office at `now`."""
    request = await locks.lock_request(session, request_id)
    if request is None:
        return 0
    route = await load_route(session, request.id)
    deciding = {a.organisation_id for a in route.approvers if a.replaced_at is None}
    decided = {(d.step_id, d.organisation_id) for d in route.decisions}
    moves: list[dict[str, str | None]] = []
    added: dict[str, list[StepApprover]] = {}
    for step, approver in _without_cdo(route, directory, decided):
        target = hand_over_target(
            approver.organisation_id,
            directory,
            policy.escalation,
            request.requester_id,
            deciding,
        )
        if target is None:
            continue
        new = replace_approver(
            session,
            route,
            step,
            approver,
            target.organisation_id,
            acting_for=target.acting_for,
            now=now,
        )
        deciding.add(new.organisation_id)
        added.setdefault(approver.step_id, []).append(new)
        moves.append({"from": approver.organisation_id, "to": new.organisation_id})
    if not moves:
        return 0
    await session.flush()
    await _tell(session, request, route, added, moves, now=now, links=links, actor=actor)
    return len(moves)


def _without_cdo(
    route: Route, directory: DirectoryView, decided: set[tuple[str, str]]
) -> list[tuple[RequestStep, StepApprover]]:
    """The approvers of open steps, each with its step, whose body has no CDO in office."""
    open_steps = {s.id: s for s in route.steps if s.status in _OPEN}
    result = []
    for approver in route.approvers:
        org = directory.organisations.get(approver.organisation_id)
        if (
            approver.replaced_at is None
            and approver.step_id in open_steps
            and (approver.step_id, approver.organisation_id) not in decided
            and org is not None
            and not org.has_active_cdo
            and org.kind != "data_bureau"
        ):
            result.append((open_steps[approver.step_id], approver))
    return result


async def _tell(
    session: AsyncSession,
    request: DataRequest,
    route: Route,
    added: dict[str, list[StepApprover]],
    moves: list[dict[str, str | None]],
    *,
    now: datetime,
    links: Links,
    actor: Actor,
) -> None:
    """The `reassigned` event, and a task for each new approver of a step under way (a waiting
    step's approvers get theirs when it starts). Each new approver gets the step's full SLA."""
    steps = {s.id: s for s in route.steps}
    await publish.request_event(
        session,
        request,
        RequestEventName.reassigned,
        now=now,
        actor=actor.org_id,
        step=request.current_step,
        moves=moves,
        reason="the CDO appointment ended",
    )
    await audit.record(
        session, "request.reassigned", actor=actor, subject=request.id, now=now,
        step=request.current_step, moves=moves,
    )  # fmt: skip
    for step_id, new_approvers in added.items():
        step = steps[step_id]
        if step.status == StepStatus.waiting:
            continue
        if step.status == StepStatus.pending:
            start_clock(step, now)
            step.reminded_at = None
        await tell_approvers(session, request, route, step, new_approvers, now=now, links=links)
