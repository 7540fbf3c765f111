"""What several revisions build and drop their tables with: the timestamp type, foreign keys and
one-column indexes named as the models' naming convention names them, and the columns an archive
table shares with its working table (as core/models share them through _EventColumns,
_DeliveryColumns and _AttemptColumns).

Revisions are history: one that has run must go on meaning what it did, so nothing here changes
once a revision uses it. A table that needs another shape gets its own columns, or a new function.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import core.db

When = core.db.UTCDateTime(timezone=True)


def foreign_key(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    """`table`'s `column` refers to the `id` of `target`; named fk_<table>_<column>_<target>."""
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def index_columns(table: str, *columns: str) -> None:
    """An index on each of `table`'s `columns` alone, named ix_<table>_<column>."""
    for column in columns:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def drop_table(table: str, *indexes: str) -> None:
    """Drops `table`'s `indexes`, then `table`: the downgrade of a revision that created them."""
    for index in indexes:
        op.drop_index(index, table_name=table)
    op.drop_table(table)


def version_counter(table: str) -> None:
    """A one-row table whose `version` (from 0) a trigger changes: `directory_version` (0015),
    `catalog_version` (0027)."""
    op.create_table(
        table,
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    )
    op.execute(f"INSERT INTO {table} (id, version) VALUES (1, 0)")


def event_columns() -> list[sa.Column[Any]]:
    """An outbox event's columns after its id: `outbox_events` (0002), `outbox_archive` (0023)."""
    return [
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("topic", sa.String(length=249), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        sa.Column("type", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("traceparent", sa.String(length=100), nullable=True),
        sa.Column("tracestate", sa.String(length=512), nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("sent_at", When, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
    ]


def delivery_columns() -> list[sa.Column[Any]]:
    """A delivery's columns after its id, organisation and channel: `webhook_deliveries` (0004,
    whose `channel` 0013 added), `webhook_deliveries_archive` (0023)."""
    return [
        sa.Column("event_type", sa.String(length=60), nullable=False),
        sa.Column("ce_id", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("traceparent", sa.String(length=60), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", When, nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("delivered_at", When, nullable=True),
        sa.Column("dead_at", When, nullable=True),
    ]


def attempt_columns() -> list[sa.Column[Any]]:
    """A delivery attempt's columns after its id: `webhook_attempts` (0004),
    `webhook_attempts_archive` (0023)."""
    return [
        sa.Column("delivery_id", sa.String(length=60), nullable=False),
        sa.Column("endpoint_url", sa.String(length=2000), nullable=False),
        sa.Column("attempted_at", When, nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
    ]
