"""The migrations make the tables the models describe: a column added to a model without a
revision (or a revision without the model) fails here, not in production."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Base

pytestmark = pytest.mark.integration


async def test_the_migrated_schema_is_the_models_schema(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with sessionmaker() as session:
        connection = await session.connection()
        assert await connection.run_sync(differences) == []
