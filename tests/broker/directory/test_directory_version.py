"""The directory's version, which every process's cached directory is checked against: a counter
that each change to the directory's tables bumps in its own transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.directory.repository import VERSIONED, current_view
from core.clock import utcnow
from core.models.directory import DirectoryVersion, Organisation
from testing.organisations import new_organisation

pytestmark = pytest.mark.integration

Sessions = async_sessionmaker[AsyncSession]


async def _version(session: AsyncSession) -> int:
    version = await session.scalar(select(DirectoryVersion.version))
    assert version is not None
    return version


async def test_every_table_the_directory_is_built_from_bumps_the_version(
    sessionmaker: Sessions,
) -> None:
    async with sessionmaker() as session:
        triggered = set(
            await session.scalars(
                text(
                    "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                    " WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
                    " AND t.tgfoid = 'bump_directory_version'::regproc"
                )
            )
        )
    assert triggered == {model.__tablename__ for model in VERSIONED}


async def test_a_change_bumps_the_version_in_its_transaction_and_only_if_it_commits(
    sessionmaker: Sessions, seeded: object
) -> None:
    body = "gz-rsj"
    touch = update(Organisation).where(Organisation.id == body).values(name=Organisation.name)
    async with sessionmaker() as session:
        before = await _version(session)

    async with sessionmaker() as session:
        await session.execute(touch)
        inside = await _version(session)
        async with sessionmaker() as elsewhere:
            meanwhile = await _version(elsewhere)
        await session.rollback()
    async with sessionmaker() as session:
        after_rollback = await _version(session)
        await session.execute(touch)
        await session.commit()
    async with sessionmaker() as session:
        after_commit = await _version(session)

    assert inside == before + 1
    assert meanwhile == before  # not another process's to see before the commit
    assert after_rollback == before
    assert after_commit == before + 1


async def test_the_cached_directory_shows_a_change_committed_elsewhere_at_its_next_read(
    sessionmaker: Sessions, seeded: object
) -> None:
    now = utcnow()
    async with sessionmaker() as session:
        cached = await current_view(session, now)

    new_body = await new_organisation(sessionmaker)
    async with sessionmaker() as session:
        fresh = await current_view(session, now)

    assert new_body not in cached.organisations
    assert new_body in fresh.organisations
