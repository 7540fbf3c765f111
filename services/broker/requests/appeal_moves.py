"""An appeal passes up its chain (the policy's, for the level of the body that refused; never
the requester, never a body that refused) in two cases, as a step does:

- its coordinator lets the decision deadline lapse (the SLA job): `appeal_escalated`, counted
  against the coordinator; at the top the lapse is recorded and the deadline moves, so the
  appeal waits where it is;
- its coordinator's CDO leaves office (only an active CDO decides): at once, when the
  appointment is ended through the API (requests/handover.py) or by the SLA job's next pass for
  one that ended by its date: `appeal_reassigned`; with nobody above, it stays and climbs when
  its deadline lapses.

An appeal is moved with its request's row locked, the lock a decision takes first; one whose
request is being decided is skipped and looked at again on the SLA job's next pass.

Either way the new coordinator gets its own deadline and an approval task.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.audit.actor import SYSTEM, Actor
from broker.directory import repository as directory_repository
from broker.requests import appeal_tasks, publish
from broker.requests.appeals import appeal_deadline, coordinator_row
from broker.requests.links import Links
from broker.requests.repository import appeals
from broker.routing.appeal import appeal_chain, next_coordinator
from broker.routing.policy import Policy
from core.events import RequestEventName
from core.models.requests import Appeal, DataRequest

BATCH = 100


async def escalate_one_appeal(
    session: AsyncSession, *, now: datetime, policy: Policy, links: Links
) -> bool:
    """The oldest overdue appeal (locked, others' skipped) passed up; False when none is due."""
    appeal = await appeals.overdue_appeal(session, now)
    if appeal is None:
        return False
    await _pass_up(session, appeal, now=now, policy=policy, links=links, actor=SYSTEM, lapsed=True)
    return True


async def hand_over_appeals(
    session: AsyncSession,
    *,
    now: datetime,
    policy: Policy,
    links: Links,
    actor: Actor,
    organisation_id: str | None = None,
) -> int:
    """Pending appeals whose coordinator (`organisation_id`'s, if given) is no data bureau and has
    no CDO in office pass to the next body up; how many moved. `actor`: who ended the
    appointment (SYSTEM: the SLA job found it ended by its date)."""
    moved = 0
    for appeal in await appeals.appeals_without_cdo(
        session, now, organisation_id=organisation_id, limit=BATCH
    ):
        moved += await _pass_up(
            session, appeal, now=now, policy=policy, links=links, actor=actor, lapsed=False
        )
    return moved


async def _pass_up(
    session: AsyncSession,
    appeal: Appeal,
    *,
    now: datetime,
    policy: Policy,
    links: Links,
    actor: Actor,
    lapsed: bool,
) -> int:
    request = await session.get(DataRequest, appeal.request_id)
    seat = await appeals.current_coordinator(session, appeal.id)
    assert request is not None
    assert seat is not None
    directory = await directory_repository.current_view(session, now)
    target = next_coordinator(
        seat.organisation_id,
        appeal.against,
        request.requester_id,
        directory,
        appeal_chain(appeal.against, directory, policy.appeal),
    )
    if target is None and not lapsed:
        return 0  # nobody above: it stays, and climbs (or waits) when its deadline lapses
    if lapsed:
        appeal.escalations += 1
    appeal.due_at = appeal_deadline(now, policy.appeal.decision_working_days)
    new_seat = None
    if target is not None:
        seat.replaced_at = now
        new_seat = coordinator_row(
            appeal, target, added_at=now, escalated_from=seat.organisation_id
        )
        session.add(new_seat)
    await session.flush()
    name = RequestEventName.appeal_escalated if lapsed else RequestEventName.appeal_reassigned
    moves = [{"from": seat.organisation_id, "to": target}]
    await publish.request_event(
        session, request, name, now=now, actor=actor.org_id, appeal_id=appeal.id, moves=moves
    )
    await audit.record(
        session, f"appeal.{name.value.removeprefix('appeal_')}", actor=actor, subject=request.id,
        now=now, appeal_id=appeal.id, moves=moves,
    )  # fmt: skip
    if new_seat is not None:
        await appeal_tasks.tell_coordinator(
            session, request, appeal, new_seat, now=now, links=links, lapsed=lapsed
        )
    return 1
