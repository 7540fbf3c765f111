"""A broker served over real HTTP for the client package's tests, and OAuth clients for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from testing.apps import served_broker
from testing.clients import Credentials, new_client
from testing.settings import Settings


@pytest.fixture(scope="module")
async def broker_url(settings: Settings, seeded: object) -> AsyncIterator[str]:
    # heartbeats each second: a guard's feed shows it is alive without waiting long
    async with served_broker(settings, grant_feed_heartbeat_seconds=1.0) as url:
        yield url


@pytest.fixture(scope="session")
def credentials(sessionmaker: async_sessionmaker[AsyncSession]) -> Credentials:
    """A new OAuth client of an organisation: (client id, secret)."""

    async def make(org_id: str, scope: str) -> tuple[str, str]:
        return await new_client(sessionmaker, org_id, scope)

    return make
