"""The pool hands out no connection the server has closed, without pinging each checkout."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text

from core.db import create_engine
from testing.settings import Settings
from testing.waiting import wait_until

pytestmark = pytest.mark.integration


async def test_a_connection_the_server_closed_is_replaced_at_checkout(settings: Settings) -> None:
    engine, killer = create_engine(settings.database_url), create_engine(settings.database_url)
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    # A pre-ping goes to the driver directly, not through the statement events: count it here.
    pings: list[object] = []
    ping = engine.sync_engine.dialect.do_ping
    engine.sync_engine.dialect.do_ping = lambda c: pings.append(c) or ping(c)  # type: ignore[method-assign]
    try:
        async with engine.connect() as connection:
            pooled = await connection.scalar(text("SELECT pg_backend_pid()"))
            driver = (await connection.get_raw_connection()).driver_connection
        # What a PostgreSQL restart or an idle timeout does to a pooled connection.
        async with killer.connect() as other:
            assert await other.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pooled})

            async def gone() -> bool:
                query = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
                count = await other.scalar(query, {"pid": pooled})
                # A transaction reads one snapshot of the statistics: the next poll needs a new one.
                await other.rollback()
                return count == 0

            await wait_until(gone, limit_s=10, what="the backend to end")
            await other.rollback()

        # The server's FATAL message and its closing of the socket are two events on the client's
        # loop; the pool's claim is about a connection whose closing asyncpg has seen.
        await wait_until(driver.is_closed, limit_s=10, what="asyncpg to see the socket closed")
        statements.clear()

        async with engine.connect() as connection:
            fresh = await connection.scalar(text("SELECT pg_backend_pid()"))

        assert fresh != pooled
        assert statements == ["SELECT pg_backend_pid()"]
        assert pings == []  # no ping before it
    finally:
        await engine.dispose()
        await killer.dispose()
