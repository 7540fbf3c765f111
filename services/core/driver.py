"""A hot Core statement run on the asyncpg connection beneath SQLAlchemy's, compiled once.

SQLAlchemy's `AsyncConnection.execute` costs 100-140 µs of CPU a call around asyncpg's own
(the compiled cache's lookup, the execution context, the greenlet hop, the cursor's adaptation,
the result): measured on a filing's context query, the audit append and a grant token's grants
query (docs/BENCHMARKS.md, *The hot statements on the driver*), a tenth of a token's CPU. A
`DriverStatement` compiles its statement once per dialect and, on an autocommit connection to
PostgreSQL over asyncpg, sends that SQL and its bound arguments on the same pooled connection's
asyncpg connection, where asyncpg's statement cache keeps it prepared. What SQLAlchemy would have
done around it is kept:

- its `before_cursor_execute` and `after_cursor_execute` events fire with the statement and its
  arguments, so the OpenTelemetry instrumentation (`core/sql_spans.py`) opens and closes the
  span it always did, with the same name, and anything counting statements sees it;
- the bind and result processors of the statement's types are applied (a UTC column's check, a
  JSON column's decoding);
- an error goes through SQLAlchemy's own handling: the same exception classes
  (`IntegrityError`, a `DBAPIError` flagged `connection_invalidated`, ...), the `handle_error`
  events (the span marked failed), a lost connection invalidated with its pool.

Anywhere else (a transaction, where SQLAlchemy's adapter sends BEGIN before the first statement;
SQLite) the statement runs through `AsyncConnection.execute` as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn
from weakref import WeakKeyDictionary

from sqlalchemy import Select
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import ReturningInsert

_Processor = Callable[[Any], Any] | None
_Statement = Select[*tuple[Any, ...]] | ReturningInsert[*tuple[Any, ...]]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the bound parameters, in the order of $1, $2 ...
    defaults: Mapping[str, Any]  # values the statement binds itself (literal())
    binds: tuple[_Processor, ...]
    results: tuple[_Processor, ...]


class _Execution:
    """What SQLAlchemy's cursor events are given as the execution context: the tracing
    instrumentation keeps its span on it."""

    executemany = False

    def handle_dbapi_exception(self, _error: BaseException) -> None:
        """Called by SQLAlchemy's error handling; nothing to clean up here."""


class DriverStatement:
    """`statement` (a Core SELECT, or an INSERT … RETURNING) run as described above; `rows`
    answers its rows as tuples of processed values."""

    def __init__(self, statement: _Statement) -> None:
        self._statement = statement
        # By the dialect itself, not its id(): an id outlives a disposed engine and is reused.
        self._compiled: WeakKeyDictionary[Dialect, _Compiled] = WeakKeyDictionary()

    @property
    def statement(self) -> _Statement:
        return self._statement

    async def rows(
        self, connection: AsyncConnection, parameters: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        if not _on_the_driver(connection):
            return [tuple(row) for row in await connection.execute(self._statement, parameters)]
        compiled = self._compiled_for(connection.dialect)
        values = {**compiled.defaults, **parameters}
        arguments = tuple(
            value if process is None else process(value)
            for value, process in zip(
                (values[name] for name in compiled.names), compiled.binds, strict=True
            )
        )
        sync = connection.sync_connection
        assert sync is not None
        execution = _Execution()
        sql = compiled.sql
        for listener in sync.dispatch.before_cursor_execute:
            sql, arguments = listener(sync, None, sql, arguments, execution, False)
        # The pooled connection the session already holds, without `get_raw_connection`'s
        # greenlet hop (~25 µs); one invalidated is revalidated there, as SQLAlchemy would.
        raw = (
            sync.connection
            if not (sync.invalidated or sync.closed)
            else await connection.get_raw_connection()
        )
        try:
            records = await raw.driver_connection.fetch(sql, *arguments)  # type: ignore[union-attr]
        except Exception as error:
            await _raise_as_sqlalchemy(connection, raw.dbapi_connection, error, sql, arguments)
        for listener in sync.dispatch.after_cursor_execute:
            listener(sync, None, sql, arguments, execution, False)
        processors = compiled.results
        return [
            tuple(v if p is None else p(v) for v, p in zip(record, processors, strict=True))
            for record in records
        ]

    def _compiled_for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect)
        if compiled is None:
            compiled = self._compiled[dialect] = _compile(self._statement, dialect)
        return compiled


def _on_the_driver(connection: AsyncConnection) -> bool:
    sync = connection.sync_connection
    return (
        sync is not None
        and connection.dialect.driver == "asyncpg"
        and sync.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
    )


def _compile(statement: _Statement, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    names = tuple(compiled.positiontup or ())
    if any(compiled.binds[name].expanding for name in names):
        raise ValueError("an expanding parameter (IN) changes the SQL per call: use = ANY()")
    defaults = {name: bind.value for name, bind in compiled.binds.items() if not bind.required}
    binds = tuple(
        compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    )
    results = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None)
        for column in statement.exported_columns
    )
    return _Compiled(compiled.string, names, defaults, binds, results)


async def _raise_as_sqlalchemy(
    connection: AsyncConnection,
    adapter: Any,
    error: Exception,
    sql: str,
    arguments: Sequence[Any],
) -> NoReturn:
    """`error` raised as SQLAlchemy raises a failed statement's: translated by its asyncpg
    adapter, then its connection's handling (the exception's class, `handle_error` events, a
    lost connection invalidated)."""
    try:
        adapter._handle_exception(error)
    except Exception as translated:
        dbapi_error = translated

    def handle(sync: Connection) -> NoReturn:
        sync._handle_dbapi_exception(dbapi_error, sql, tuple(arguments), None, _Execution())  # type: ignore[arg-type]

    await connection.run_sync(handle)
    raise AssertionError("unreachable: SQLAlchemy raises")  # pragma: no cover
