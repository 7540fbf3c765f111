"""Fixtures of the broker's tests: a fresh organisation and its system's webhooks:manage token;
empty databases that tests of migrations upgrade step by step."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from testing.clients import TokenFactory
from testing.database import Database, empty_database
from testing.organisations import Sessions, manager, new_organisation


@pytest.fixture
async def org(sessionmaker: Sessions) -> str:
    return await new_organisation(sessionmaker)


@pytest.fixture
async def headers(token_for: TokenFactory, org: str) -> dict[str, str]:
    return await manager(token_for, org)


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'broker.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
async def fresh_database(
    request: pytest.FixtureRequest, sqlite_url: str, database_url: str, owner_database_url: str
) -> AsyncIterator[Database]:
    """An empty database: a SQLite file, or a schema of its own in the test database."""
    async with empty_database(
        request.param,
        sqlite_url=sqlite_url,
        database_url=database_url,
        owner_database_url=owner_database_url,
    ) as database:
        yield database
