"""The people tables' statements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.models.directory import Organisation
from core.models.people import Person, PersonSession


async def by_username(session: AsyncSession, username: str) -> Person | None:
    return await session.scalar(select(Person).where(Person.username == username))


async def usernames_like(session: AsyncSession, prefix: str) -> set[str]:
    found = await session.scalars(select(Person.username).where(Person.username.like(f"{prefix}%")))
    return set(found)


async def of_organisation(session: AsyncSession, organisation_id: str) -> Sequence[Person]:
    query = select(Person).where(Person.organisation_id == organisation_id).order_by(Person.id)
    return (await session.scalars(query)).all()


async def live_session(
    session: AsyncSession, session_id: str, now: datetime
) -> tuple[PersonSession, Person, str] | None:
    """The session, its person and the kind of the person's organisation."""
    row = (
        await session.execute(
            select(PersonSession, Person, Organisation.kind)
            .join(Person, Person.id == PersonSession.person_id)
            .join(Organisation, Organisation.id == Person.organisation_id)
            .where(
                PersonSession.id == session_id,
                PersonSession.ended_at.is_(None),
                PersonSession.expires_at > now,
                Person.disabled_at.is_(None),
            )
        )
    ).first()
    return (row[0], row[1], row[2]) if row is not None else None


async def end_session(session: AsyncSession, session_id: str, now: datetime) -> None:
    await session.execute(
        update(PersonSession)
        .where(PersonSession.id == session_id, PersonSession.ended_at.is_(None))
        .values(ended_at=now)
    )
