"""Engine, session factory and the declarative base of every table (core.models); and mapped
rows of several tables written by one statement (PostgreSQL), as data-modifying CTEs
(`anchored_inserts`).

Each table's rows go as one JSON array that `json_populate_recordset` turns into rows of the
table's own type, so the statement's text depends only on the tables, not on how many rows each
has: it is built and compiled once. `json`, not `jsonb`: a JSON column's value is stored as the
text the ORM would have sent (keys in their order), not re-serialised. The first table's rows
are the anchor: inserted `ON CONFLICT DO NOTHING`, and every other CTE of the statement is
conditioned on the anchor having been inserted, so a conflict writes nothing at all. A JSON
column whose text its row already has (`encoded_as`: an outbox event's data, encoded for its
size check) goes as that text, not encoded again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import cache
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import (
    CTE,
    JSON,
    BigInteger,
    Column,
    ColumnElement,
    DateTime,
    Exists,
    MetaData,
    SmallInteger,
    Table,
    Text,
    TypeDecorator,
    bindparam,
    cast,
    event,
    exists,
    func,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, class_mapper, mapped_column

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


class VersionCounter:
    """A one-row table (id 1) whose `version` a trigger (PostgreSQL) sets to a sequence's next
    number after every statement that writes the tables it counts, in that statement's
    transaction: a process's copy of those tables is current exactly while this is the version
    it was read at, and no two of their states, committed or rolled back, share a number
    (revisions 0015, 0027, 0028)."""

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)  # 1
    version: Mapped[int] = mapped_column(BigInteger)


def version_now(counter: type[VersionCounter], dialect: str) -> list[ColumnElement[int]]:
    """`counter`'s version as a scalar subquery, to read along with a query run anyway; none
    where no trigger sets it (SQLite, one local process, keeps no copies)."""
    if dialect != "postgresql":
        return []
    return [select(counter.version).where(counter.id == 1).scalar_subquery()]


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


def autocommit_connection(session: AsyncSession) -> AsyncConnection | None:
    """The connection `session` was made on, if it is one in autocommit mode (the broker's
    `Sessions.on_connection`): each statement there is its own transaction, so a Core statement
    runs on it directly, without beginning the session's transaction (its SessionTransaction
    and a greenlet hop, and a commit's at the end). None for a session over an engine."""
    bind = session.bind
    if not isinstance(bind, AsyncConnection) or bind.sync_connection is None:
        return None
    options = bind.sync_connection.get_execution_options()
    return bind if options.get("isolation_level") == "AUTOCOMMIT" else None


async def connection_of(session: AsyncSession) -> AsyncConnection:
    """Where a Core statement of `session`'s runs: its autocommit connection
    (`autocommit_connection`), else the connection of its transaction, begun if need be."""
    return autocommit_connection(session) or await session.connection()


async def ping(engine: AsyncEngine) -> None:
    """One round trip on a connection of `engine`: raises when the database does not answer."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


# Rows whose JSON columns were encoded already (an outbox event's `data`, for its size check):
# `insert_parameters` writes that text as it is instead of encoding the value again.
_ENCODED: WeakKeyDictionary[Base, dict[str, str]] = WeakKeyDictionary()


def encoded_as(row: Base, column: str, text: str) -> None:
    """`text` is the JSON of `row`'s column `column` (its name in the table), as it must be
    stored, and the value is not changed after: `insert_parameters` passes it through. The ORM's
    own flush still encodes the value."""
    _ENCODED.setdefault(row, {})[column] = text


def _jsonable(value: object) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # as UTCDateTime refuses it
            raise ValueError("naive datetime given to a UTC column")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not written as JSON")


def _columns(table: Table) -> list[Column[Any]]:
    """What an INSERT names: every column but a primary key the database numbers."""
    return [c for c in table.columns if c is not table.autoincrement_column]


def _table(row: Base) -> Table:
    return _table_of(type(row))


def _table_of(entity: type[Base]) -> Table:
    table = entity.__table__
    assert isinstance(table, Table)
    return table


def tables_of(rows: Sequence[Base]) -> tuple[Table, ...]:
    """The tables of `rows`, in the order their first rows come."""
    return tuple(dict.fromkeys(_table(row) for row in rows))


def insert_parameters(rows: Sequence[Base], tables: Sequence[Table]) -> dict[str, str]:
    """Each table's rows as the JSON array its CTE reads (`rows_0`, `rows_1` ...): each column's
    value as the ORM would write it, a Python-side default filled in (and set on the row, as a
    flush sets it). A JSON column encoded already (`encoded_as`) goes as that text. One
    difference: a JSON column's None is SQL NULL here, where the ORM writes JSON `null`; both
    read back as None."""
    by_table: dict[Table, list[str]] = {table: [] for table in tables}
    for row in rows:
        table = _table(row)
        encoded = _ENCODED.get(row, {})
        values: dict[str, Any] = {}
        for name, key, default in _inserted(type(row)):
            if name in encoded:
                continue
            value = getattr(row, key)
            if value is None and default is not None:
                value = default.arg(None) if default.is_callable else default.arg
                setattr(row, key, value)
            values[name] = value
        by_table[table].append(_object(values, encoded))
    return {f"rows_{i}": f"[{','.join(by_table[table])}]" for i, table in enumerate(tables)}


@cache
def _inserted(entity: type[Base]) -> tuple[tuple[str, str, Any], ...]:
    """What an INSERT of an `entity` names, looked up once per class (a mapping does not change
    while the process runs): each column's name, its attribute and its Python-side default."""
    mapper = class_mapper(entity)
    return tuple(
        (column.name, mapper.get_property_by_column(column).key, column.default)
        for column in _columns(_table_of(entity))
    )


def _object(values: dict[str, Any], encoded: dict[str, str]) -> str:
    """`values` as a JSON object, with the members whose JSON is `encoded` already."""
    text = json.dumps(values, default=_jsonable)
    if not encoded:
        return text
    members = ",".join(f"{json.dumps(name)}:{json_text}" for name, json_text in encoded.items())
    return f"{text[:-1]},{members}}}" if values else f"{{{members}}}"


def _from_json(table: Table, parameter: str, when: Exists | None = None) -> Any:
    names = [c.name for c in _columns(table)]
    source = func.json_populate_recordset(
        literal_column(f"NULL::{table.name}"), cast(bindparam(parameter, type_=Text), JSON)
    ).table_valued(*names, name=f"{table.name}_in")
    rows = select(*(source.c[name] for name in names))
    return names, rows if when is None else rows.where(when)


@cache
def anchored_inserts(
    tables: tuple[Table, ...], guard: ColumnElement[bool] | None = None
) -> tuple[CTE, Exists, list[CTE]]:
    """The CTEs writing `tables`' rows (see `insert_parameters`): the anchor (the first table's, its
    primary key returned for each row inserted), the condition "the anchor was inserted" for
    the caller's own CTEs, and the other tables' CTEs. With a `guard`, nothing is written unless
    it holds. Built once per tuple of tables and guard."""
    first, *rest = tables
    names, rows = _from_json(first, "rows_0")
    if guard is not None:
        rows = rows.where(guard)
    anchor = (
        postgresql.insert(first)
        .from_select(names, rows)
        .on_conflict_do_nothing()
        .returning(*first.primary_key.columns)
        .cte("anchor")
    )
    when = exists(select(literal_column("1")).select_from(anchor))
    others = []
    for i, table in enumerate(rest, start=1):
        names, rows = _from_json(table, f"rows_{i}", when)
        others.append(insert(table).from_select(names, rows).cte(f"{table.name}_written"))
    return anchor, when, others
