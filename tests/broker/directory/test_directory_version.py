"""The directory's version, which every process's cached directory is checked against: a counter
that each change to the directory's tables bumps in its own transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.directory.repository import VERSIONED, current_view
from core.clock import utcnow
from core.models.directory import DirectoryVersion, Organisation
from testing.organisations import new_organisation
from testing.versions import around_a_change, bumped_at_commit, triggered_tables

pytestmark = pytest.mark.integration

Sessions = async_sessionmaker[AsyncSession]


async def test_every_table_the_directory_is_built_from_bumps_the_version(
    sessionmaker: Sessions,
) -> None:
    triggered = await triggered_tables(sessionmaker, "bump_directory_version")
    assert triggered == {model.__tablename__ for model in VERSIONED}


async def test_a_change_bumps_the_version_in_its_transaction_and_only_if_it_commits(
    sessionmaker: Sessions, seeded: object
) -> None:
    body = "gz-rsj"
    touch = update(Organisation).where(Organisation.id == body).values(name=Organisation.name)

    seen = await around_a_change(sessionmaker, DirectoryVersion.version, touch)

    assert bumped_at_commit(seen), seen


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
