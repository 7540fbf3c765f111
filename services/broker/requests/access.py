"""Whom a caller may act for: its own organisation, and bodies whose CDO delegated to it.

What a delegate sees is narrower than what the body sees: a delegation lets it decide, so it sees
the requests its delegator must decide, never the ones its delegator filed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit.actor import Actor
from broker.directory.models import Appointment, Delegation
from broker.requests import repository


@dataclass(frozen=True)
class Acting:
    actor: Actor  # who calls, as the audit log names it
    delegated: dict[str, tuple[Delegation, Appointment]]  # approver org -> delegation in force

    @property
    def own(self) -> str:
        return str(self.actor.org_id)

    @property
    def org_ids(self) -> list[str]:
        """The bodies whose approvals this caller may give: its own and its delegators'."""
        return [self.own, *self.delegated]


async def acting_for(session: AsyncSession, actor: Actor, now: datetime) -> Acting:
    org_id = str(actor.org_id)
    delegations = await repository.active_delegations_to(session, org_id, now)
    return Acting(
        actor=actor,
        delegated={
            appointment.organisation_id: (delegation, appointment)
            for delegation, appointment in delegations
            if appointment.organisation_id != org_id
        },
    )
