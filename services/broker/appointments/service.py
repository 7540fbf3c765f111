"""Filing and ending CDO appointments with what follows in the same transaction: the directory
records the change (directory.service), then a body left without a CDO in office hands its open
steps to its level's data bureau (requests.handover). The API (`appointments/endpoints.py`) and the
bureau's console page (任免) both call these, so both leave the same audit rows and events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit.actor import Actor
from broker.directory import service as directory
from broker.directory.schemas import AppointmentIn
from broker.requests.handover import hand_over_steps_of
from broker.requests.links import Links
from broker.routing.policy import Policy
from core.models.directory import Appointment


async def appoint(
    session: AsyncSession,
    body: AppointmentIn,
    *,
    actor: Actor,
    policy: Policy,
    links: Links,
    now: datetime,
) -> Appointment:
    appointment = await directory.appoint(session, body, actor=actor, now=now)
    await hand_over_steps_of(
        session, appointment.organisation_id, policy=policy, now=now, links=links, actor=actor
    )
    return appointment


async def end_appointment(
    session: AsyncSession,
    appointment_id: str,
    *,
    ends_at: datetime,
    reason: str,
    actor: Actor,
    policy: Policy,
    links: Links,
    now: datetime,
) -> Appointment:
    """One ending now hands the body's open steps over at once; one ending later hands them
    over when it ends (the SLA job)."""
    appointment = await directory.end_appointment(
        session, appointment_id, ends_at=ends_at, reason=reason, actor=actor, now=now
    )
    await hand_over_steps_of(
        session, appointment.organisation_id, policy=policy, now=now, links=links, actor=actor
    )
    return appointment
