"""Who may decide now: the CDO appointments and the delegations in force, read for a request's
approvers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models.directory import Appointment, Delegation, Organisation


async def active_cdo_names(
    session: AsyncSession, organisation_ids: Sequence[str], now: datetime
) -> dict[str, str]:
    rows = await session.execute(
        select(Appointment.organisation_id, Appointment.person_name).where(
            Appointment.organisation_id.in_(organisation_ids),
            Appointment.in_force_at(now),
        )
    )
    return {a: b for a, b in rows}  # noqa: C416 (Row is not a 2-sequence for dict())


async def active_appointment(
    session: AsyncSession, organisation_id: str, now: datetime
) -> Appointment | None:
    return await session.scalar(
        select(Appointment).where(
            Appointment.organisation_id == organisation_id,
            Appointment.in_force_at(now),
        )
    )


async def office_of(
    session: AsyncSession, organisation_id: str, now: datetime
) -> tuple[Organisation | None, Appointment | None]:
    """The body and its CDO appointment in force (None: none now), in one statement: a decision
    reads both, the body's kind (a data bureau decides without a CDO) and its level (a metric's
    label, `session.get` finds it in the session then)."""
    row = (
        await session.execute(
            select(Organisation, Appointment)
            .outerjoin(
                Appointment,
                and_(Appointment.organisation_id == Organisation.id, Appointment.in_force_at(now)),
            )
            .where(Organisation.id == organisation_id)
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row else (None, None)


async def active_delegations_to(
    session: AsyncSession, delegate_org_id: str, now: datetime
) -> Sequence[tuple[Delegation, Appointment]]:
    """Delegations in force that let `delegate_org_id` decide for another body's CDO."""
    rows = await session.execute(
        select(Delegation, Appointment)
        .join(Appointment, Appointment.id == Delegation.appointment_id)
        .where(
            Delegation.delegate_org_id == delegate_org_id,
            Delegation.revoked_at.is_(None),
            Delegation.starts_at <= now,
            Delegation.ends_at > now,
            Appointment.in_force_at(now),
        )
    )
    return [(delegation, appointment) for delegation, appointment in rows]


async def delegate_orgs_of(session: AsyncSession, organisation_id: str, now: datetime) -> list[str]:
    """Other bodies that may decide for `organisation_id`'s CDO right now."""
    rows = await session.scalars(
        select(Delegation.delegate_org_id)
        .join(Appointment, Appointment.id == Delegation.appointment_id)
        .where(
            Appointment.organisation_id == organisation_id,
            Delegation.delegate_org_id != organisation_id,
            Delegation.revoked_at.is_(None),
            Delegation.starts_at <= now,
            Delegation.ends_at > now,
        )
        .order_by(Delegation.delegate_org_id)
    )
    return list(dict.fromkeys(rows))
