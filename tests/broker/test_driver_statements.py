"""A statement run on the asyncpg connection beneath SQLAlchemy's (core/driver.py) answers, is
traced and counted, and fails as it would through SQLAlchemy; in a transaction it goes through
SQLAlchemy as before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import JSON, Column, MetaData, String, Table, bindparam, event, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.db import UTCDateTime, create_engine, database_unavailable
from core.driver import DriverStatement
from core.telemetry import instrument_engine
from testing.settings import Settings
from testing.waiting import wait_until

pytestmark = pytest.mark.integration

PROBE = Table(
    "driver_probe",
    MetaData(),
    Column("id", String, primary_key=True),
    Column("doc", JSON),
    Column("at", UTCDateTime),
)
INSERT = DriverStatement(
    insert(PROBE)
    .from_select(
        ["id", "doc", "at"],
        select(
            bindparam("id", type_=String),
            bindparam("doc", type_=JSON),
            bindparam("at", type_=UTCDateTime),
        ),
    )
    .returning(PROBE.c.id, PROBE.c.at)
)
READ = DriverStatement(
    select(PROBE.c.id, PROBE.c.doc, PROBE.c.at).where(PROBE.c.id == bindparam("id"))
)
CREATE = "CREATE TEMP TABLE driver_probe (id text PRIMARY KEY, doc json, at timestamptz)"
AT = datetime(2026, 12, 5, 3, 30, tzinfo=UTC)


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings.database_url)
    yield engine
    await engine.dispose()


async def _with_probe(engine: AsyncEngine) -> AsyncConnection:
    connection = await engine.execution_options(isolation_level="AUTOCOMMIT").connect()
    await connection.execute(text(CREATE))
    return connection


async def test_it_answers_and_is_counted_as_through_sqlalchemy(engine: AsyncEngine) -> None:
    seen: list[str] = []
    by_driver: list[str] = []  # no DBAPI cursor: sent to asyncpg by the DriverStatement itself
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    event.listen(
        engine.sync_engine,
        "before_cursor_execute",
        lambda *a: by_driver.append(a[2]) if a[1] is None else None,
    )
    connection = await _with_probe(engine)
    try:
        doc = {"名": "广州", "n": [1, None, 2.5]}
        assert await INSERT.rows(connection, {"id": "a", "doc": doc, "at": AT}) == [("a", AT)]
        ours = await READ.rows(connection, {"id": "a"})
        theirs = [tuple(r) for r in await connection.execute(READ.statement, {"id": "a"})]
        assert ours == theirs == [("a", doc, AT)]
        assert sum(s.startswith("INSERT INTO driver_probe") for s in seen) == 1
        assert sum(s.startswith("SELECT driver_probe.id") for s in seen) == 2
        assert [s.split(" ", 1)[0] for s in by_driver] == ["INSERT", "SELECT"]
        with pytest.raises(ValueError, match="naive"):  # the UTC column's own check
            await INSERT.rows(connection, {"id": "b", "doc": None, "at": datetime(2026, 1, 1)})
    finally:
        await connection.close()


async def test_its_span_is_named_as_sqlalchemys(engine: AsyncEngine) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrument_engine(engine, provider)
    connection = await _with_probe(engine)
    try:
        with provider.get_tracer("test").start_as_current_span("call"):
            await READ.rows(connection, {"id": "a"})
            await connection.execute(READ.statement, {"id": "a"})
        names = [s.name for s in exporter.get_finished_spans() if s.name != "call"]
        assert len(names) == 2, names
        assert names[0] == names[1]
        assert all(s.end_time is not None for s in exporter.get_finished_spans())
    finally:
        await connection.close()


async def test_a_refused_statement_raises_as_sqlalchemys(engine: AsyncEngine) -> None:
    connection = await _with_probe(engine)
    try:
        await INSERT.rows(connection, {"id": "a", "doc": None, "at": AT})
        with pytest.raises(IntegrityError):
            await INSERT.rows(connection, {"id": "a", "doc": None, "at": AT})
        assert await READ.rows(connection, {"id": "a"}) == [("a", None, AT)]  # still usable
    finally:
        await connection.close()


async def test_a_lost_connection_is_reported_and_replaced(
    engine: AsyncEngine, settings: Settings
) -> None:
    killer = create_engine(settings.database_url)
    connection = await _with_probe(engine)
    try:
        pid = await connection.scalar(text("SELECT pg_backend_pid()"))
        async with killer.connect() as other:
            assert await other.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

            async def gone() -> bool:
                query = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
                count = await other.scalar(query, {"pid": pid})
                await other.rollback()  # a new snapshot of the statistics for the next poll
                return count == 0

            await wait_until(gone, limit_s=10, what="the backend to end")
        with pytest.raises(DBAPIError) as raised:
            await READ.rows(connection, {"id": "a"})
        assert raised.value.connection_invalidated
        assert database_unavailable(raised.value)
    finally:
        await connection.close()
        await killer.dispose()
    async with engine.connect() as fresh:  # the pool hands out a working connection
        assert await fresh.scalar(text("SELECT 1")) == 1


async def test_in_a_transaction_it_runs_in_that_transaction(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text(CREATE))
        await connection.commit()
        await INSERT.rows(connection, {"id": "a", "doc": None, "at": AT})
        await connection.rollback()
        assert await READ.rows(connection, {"id": "a"}) == []
