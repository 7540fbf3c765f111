"""A broker served over real HTTP for the client package's tests, and OAuth clients for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.oauth.clients import create_client
from broker.settings import Settings
from tests.conftest import served_broker

Credentials = Callable[[str, str], Awaitable[tuple[str, str]]]


@pytest.fixture(scope="module")
async def broker_url(settings: Settings, seeded: object) -> AsyncIterator[str]:
    # heartbeats each second: a guard's feed shows it is alive without waiting long
    async with served_broker(settings, grant_feed_heartbeat_seconds=1.0) as url:
        yield url


@pytest.fixture(scope="session")
def credentials(sessionmaker: async_sessionmaker[AsyncSession]) -> Credentials:
    """A new OAuth client of an organisation: (client id, secret)."""

    async def make(org_id: str, scope: str) -> tuple[str, str]:
        async with sessionmaker() as session:
            client, secret = await create_client(session, organisation_id=org_id, scope=scope)
            await session.commit()
        return client.id, secret

    return make
