"""Engine, session factory and the declarative base of every table (core.models)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, TypeDecorator, event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware on the way in and out, also on SQLite, which stores naive values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def create_engine(database_url: str) -> AsyncEngine:
    if database_url.startswith("sqlite"):
        engine = create_async_engine(database_url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    # 20 kept open, none beyond: an overflow connection is closed when it is given back, so under
    # load (more requests in flight than kept connections) every request past the 10th opened
    # one (an SSL attempt and SCRAM, two round trips each) and closed it again. Requests past the
    # 20th wait for a connection, as they did with 10 + 10.
    engine = create_async_engine(database_url, pool_size=20, max_overflow=0)
    event.listen(engine.sync_engine.pool, "checkout", _discard_if_closed)
    return engine


def _discard_if_closed(_dbapi_connection: Any, _record: Any, proxy: Any) -> None:
    """The pool's check of a connection it hands out, without a round trip. SQLAlchemy's
    pre-ping costs three over asyncpg (BEGIN, a ping, ROLLBACK), on every checkout. A server that
    closed the connection (a PostgreSQL restart, an idle timeout) has closed the socket too, which
    asyncpg has seen; such a connection is replaced. One that died silently fails its first
    statement instead: SQLAlchemy then discards the whole pool, and the caller answers 503."""
    if proxy.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")


def database_unavailable(exc: BaseException) -> bool:
    """PostgreSQL restarting or failing over, as SQLAlchemy over asyncpg reports it when it is
    not an OperationalError: a statement cut off ("connection was closed in the middle of
    operation"), which SQLAlchemy flags as a lost connection, or a connection refused with
    SQLSTATE 57P01-57P05 ("the database system is shutting down") or class 08. The caller
    should retry later, as for a refused connection (an OSError)."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(("08", "57P"))


def create_sessionmaker(engine: AsyncEngine, **info: object) -> async_sessionmaker[AsyncSession]:
    """Sessions over `engine`, each with `info` (those not None) in its `Session.info`: the
    broker's sessions that write audit rows carry `audit_keys=` (broker/audit/keys.py)."""
    given = {name: value for name, value in info.items() if value is not None}
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False, info=given)


async def ping(engine: AsyncEngine) -> None:
    """One round trip on a connection of `engine`: raises when the database does not answer."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
