"""A schema of its own, migrated, for the province and its history (they write thousands of
rows the other tests should not see)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.audit.keys import AuditKeys, new_key
from broker.migrate import upgrade
from core.db import create_engine, create_sessionmaker
from testing.database import empty_database


@pytest.fixture(scope="module")
async def province_sessions(
    database_url: str, owner_database_url: str
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with empty_database(
        "postgresql",
        sqlite_url="",
        database_url=database_url,
        owner_database_url=owner_database_url,
    ) as db:
        await asyncio.to_thread(upgrade, db.owner_url, app_role=db.app_role)
        engine = create_engine(db.app_url)
        try:
            yield create_sessionmaker(engine, audit_keys=AuditKeys.parse(new_key()))
        finally:
            await engine.dispose()
