"""archives: published outbox rows and delivered webhooks move out of the working tables after
ARCHIVE_AFTER_DAYS; a request's timeline reads its events by subject

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-09 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when() -> core.db.UTCDateTime:
    return core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_events_subject", ["subject"], unique=False)
    op.create_table(
        "outbox_archive",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
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
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("sent_at", _when(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_archive")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_archive_event_id")),
    )
    op.create_index("ix_outbox_archive_subject", "outbox_archive", ["subject"], unique=False)
    op.create_table(
        "webhook_deliveries_archive",
        sa.Column("id", sa.String(length=60), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=20), server_default="webhook", nullable=False),
        sa.Column("event_type", sa.String(length=60), nullable=False),
        sa.Column("ce_id", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("traceparent", sa.String(length=60), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _when(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("delivered_at", _when(), nullable=True),
        sa.Column("dead_at", _when(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_webhook_deliveries_archive_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries_archive")),
    )
    for column in ("event_type", "request_id"):
        op.create_index(
            f"ix_webhook_deliveries_archive_{column}", "webhook_deliveries_archive", [column]
        )
    op.create_table(
        "webhook_attempts_archive",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("delivery_id", sa.String(length=60), nullable=False),
        sa.Column("endpoint_url", sa.String(length=2000), nullable=False),
        sa.Column("attempted_at", _when(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts_archive")),
    )
    op.create_index(
        "ix_webhook_attempts_archive_delivery_id", "webhook_attempts_archive", ["delivery_id"]
    )


def downgrade() -> None:
    op.drop_table("webhook_attempts_archive")
    op.drop_table("webhook_deliveries_archive")
    op.drop_table("outbox_archive")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_events_subject")
