"""Whom a caller may act for: its own organisation, and bodies whose CDO delegated to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from broker.directory.models import Appointment, Delegation
from broker.requests import repository


@dataclass(frozen=True)
class Acting:
    own: str
    delegated: dict[str, tuple[Delegation, Appointment]]  # approver org -> delegation in force

    @property
    def org_ids(self) -> list[str]:
        return [self.own, *self.delegated]


async def acting_for(session: AsyncSession, org_id: str, now: datetime) -> Acting:
    delegations = await repository.active_delegations_to(session, org_id, now)
    return Acting(
        own=org_id,
        delegated={
            appointment.organisation_id: (delegation, appointment)
            for delegation, appointment in delegations
            if appointment.organisation_id != org_id
        },
    )
