"""Databases for tests and benches: a schema rebuilt from the migrations, the same database seen
through another schema, a private outbox table, the statements waiting for a lock."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as create_raw_engine

from broker.migrate import app_role_of, upgrade
from core.db import create_engine
from core.models.outbox import OutboxEvent


async def waiting_for_a_lock(
    sessionmaker: async_sessionmaker[AsyncSession], statement_like: str
) -> list[int]:
    """The backends whose statement (LIKE `statement_like`) waits for a lock another transaction
    holds. A fresh transaction each call: one reads a single snapshot of pg_stat_activity."""
    async with sessionmaker() as probe:
        pids = await probe.scalars(
            text(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND query LIKE :statement"
            ),
            {"statement": statement_like},
        )
        return list(pids)


def in_schema(database_url: str, schema: str) -> str:
    """The same database with `schema` alone on the search path. The test role may not create
    databases, and asyncpg takes a server setting such as search_path only from a DSN's query,
    so the URL hands asyncpg a DSN."""
    dsn = make_url(database_url).set(drivername="postgresql")
    return f"postgresql+asyncpg:///?dsn={dsn.render_as_string(hide_password=False)}" + (
        f"?search_path={schema}"
    )


async def drop_schema(owner_url: str, schema: str, *, create: bool = True) -> None:
    """Drops `schema` with everything in it (and creates it again, empty, unless not `create`)."""
    engine = create_engine(owner_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            if create:
                await connection.execute(text(f"CREATE SCHEMA {schema}"))
    finally:
        await engine.dispose()


async def migrated_schema(
    owner_url: str, schema: str = "public", *, app_role: str | None = None
) -> None:
    """`schema` emptied and migrated to the newest revision by the owner, granting `app_role`
    (if given) what the broker may do."""
    await drop_schema(owner_url, schema)
    url = owner_url if schema == "public" else in_schema(owner_url, schema)
    await asyncio.to_thread(upgrade, url, app_role=app_role)  # alembic runs its own event loop


@dataclass(frozen=True)
class Database:
    owner_url: str  # who migrates (and who can tamper)
    app_url: str  # who the broker is
    app_role: str | None


@asynccontextmanager
async def empty_database(
    kind: str, *, sqlite_url: str, database_url: str, owner_database_url: str
) -> AsyncIterator[Database]:
    """An empty database to migrate step by step: the SQLite file `sqlite_url` (kind "sqlite"),
    or a schema of its own in the PostgreSQL test database, dropped afterwards."""
    if kind == "sqlite":
        yield Database(sqlite_url, sqlite_url, None)
        return
    schema = f"empty_{uuid.uuid4().hex[:8]}"
    await drop_schema(owner_database_url, schema)
    try:
        yield Database(
            in_schema(owner_database_url, schema),
            in_schema(database_url, schema),
            app_role_of(database_url, owner_database_url),
        )
    finally:
        await drop_schema(owner_database_url, schema, create=False)


@asynccontextmanager
async def private_outbox(owner_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine whose `outbox_events` is a new, empty table in a schema of its own; dropped
    afterwards. The relays' advisory locks are keyed by the table's oid, so relays over it
    never meet the ones over `public.outbox_events`. As the owner: the app's role may not
    create schemas."""
    schema = f"outbox_test_{uuid.uuid4().hex[:8]}"
    engine = create_raw_engine(
        owner_url,
        connect_args={"server_settings": {"search_path": schema}},
        pool_size=10,
        max_overflow=10,
    )
    async with engine.begin() as connection:
        await connection.execute(text(f"CREATE SCHEMA {schema}"))
        await connection.run_sync(cast(Table, OutboxEvent.__table__).create)
    try:
        yield engine
    finally:
        async with engine.begin() as connection:
            await connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        await engine.dispose()
