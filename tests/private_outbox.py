"""An `outbox_events` table in a schema of its own, for relays a test controls.

The broker app of the test session runs its own relay over `public.outbox_events`; the relays'
advisory locks are keyed by the table's oid, so relays over a private table never meet it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import create_async_engine as create_raw_engine

from broker.outbox.models import OutboxEvent


@asynccontextmanager
async def private_outbox(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine whose `outbox_events` is a new, empty table; dropped afterwards. `database_url`
    names the database's owner: the app's role may not create schemas."""
    schema = f"outbox_test_{uuid.uuid4().hex[:8]}"
    engine = create_raw_engine(
        database_url,
        connect_args={"server_settings": {"search_path": schema}},
        pool_size=10,
        max_overflow=10,
    )
    async with engine.begin() as connection:
        await connection.execute(text(f"CREATE SCHEMA {schema}"))
        await connection.run_sync(lambda sync: OutboxEvent.__table__.create(sync))
    try:
        yield engine
    finally:
        async with engine.begin() as connection:
            await connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        await engine.dispose()
