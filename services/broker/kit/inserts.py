"""Mapped rows of several tables written by one statement (PostgreSQL), as data-modifying CTEs.

Each table's rows go as one JSON array that `json_populate_recordset` turns into rows of the
table's own type, so the statement's text depends only on the tables, not on how many rows each
has: it is built and compiled once. `json`, not `jsonb`: a JSON column's value is stored as the
text the ORM would have sent (keys in their order), not re-serialised.

The first table's rows are the anchor: inserted `ON CONFLICT DO NOTHING`, and every other CTE
of the statement is conditioned on the anchor having been inserted (`anchored`), so a conflict
writes nothing at all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    CTE,
    JSON,
    Column,
    Exists,
    Table,
    Text,
    bindparam,
    cast,
    exists,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import object_mapper

from core.db import Base


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
    table = row.__table__
    assert isinstance(table, Table)
    return table


def tables_of(rows: Sequence[Base]) -> tuple[Table, ...]:
    """The tables of `rows`, in the order their first rows come."""
    return tuple(dict.fromkeys(_table(row) for row in rows))


def parameters(rows: Sequence[Base], tables: Sequence[Table]) -> dict[str, str]:
    """Each table's rows as the JSON array its CTE reads (`rows_0`, `rows_1` ...): each column's
    value as the ORM would write it, a Python-side default filled in (and set on the row, as a
    flush sets it). One difference: a JSON column's None is SQL NULL here, where the ORM writes
    JSON `null`; both read back as None."""
    by_table: dict[Table, list[dict[str, Any]]] = {table: [] for table in tables}
    for row in rows:
        mapper, table = object_mapper(row), _table(row)
        values: dict[str, Any] = {}
        for column in _columns(table):
            key = mapper.get_property_by_column(column).key
            value = getattr(row, key)
            if value is None and column.default is not None:
                default: Any = column.default
                value = default.arg(None) if default.is_callable else default.arg
                setattr(row, key, value)
            values[column.name] = value
        by_table[table].append(values)
    return {
        f"rows_{i}": json.dumps(by_table[table], default=_jsonable)
        for i, table in enumerate(tables)
    }


def _from_json(table: Table, parameter: str, when: Exists | None = None) -> Any:
    names = [c.name for c in _columns(table)]
    source = func.json_populate_recordset(
        literal_column(f"NULL::{table.name}"), cast(bindparam(parameter, type_=Text), JSON)
    ).table_valued(*names, name=f"{table.name}_in")
    rows = select(*(source.c[name] for name in names))
    return names, rows if when is None else rows.where(when)


@cache
def anchored(tables: tuple[Table, ...]) -> tuple[CTE, Exists, list[CTE]]:
    """The CTEs writing `tables`' rows (see `parameters`): the anchor (the first table's, its
    primary key returned for each row inserted), the condition "the anchor was inserted" for
    the caller's own CTEs, and the other tables' CTEs. Built once per tuple of tables."""
    first, *rest = tables
    names, rows = _from_json(first, "rows_0")
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
