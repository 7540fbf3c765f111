"""Fresh organisations for tests of per-organisation things (a webhook endpoint, a channel):
the database is shared by the session, so each test makes a body of its own."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.directory.models import Organisation
from tests.conftest import TokenFactory, bearer

Sessions = async_sessionmaker[AsyncSession]


async def new_organisation(sessionmaker: Sessions) -> str:
    """A body of its own per test: an organisation has one endpoint, the database is shared."""
    org_id = f"wh-{uuid.uuid4().hex[:12]}"
    async with sessionmaker() as session:
        session.add(
            Organisation(
                id=org_id,
                name="测试局",
                name_en="Test bureau",
                kind="department",
                level="city",
                division_code="440100",
            )
        )
        await session.commit()
    return org_id


async def manager(token_for: TokenFactory, org_id: str) -> dict[str, str]:
    return bearer(await token_for(org_id, "webhooks:manage"))
