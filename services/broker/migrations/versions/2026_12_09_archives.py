"""archives: published outbox rows and delivered webhooks move out of the working tables after
ARCHIVE_AFTER_DAYS; a request's timeline reads its events by subject

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-09 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from broker.migrations.tables import attempt_columns, delivery_columns, event_columns, foreign_key

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_events_subject", ["subject"], unique=False)
    op.create_table(
        "outbox_archive",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        *event_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_archive")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_archive_event_id")),
    )
    op.create_index("ix_outbox_archive_subject", "outbox_archive", ["subject"], unique=False)
    op.create_table(
        "webhook_deliveries_archive",
        sa.Column("id", sa.String(length=60), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=20), server_default="webhook", nullable=False),
        *delivery_columns(),
        foreign_key("webhook_deliveries_archive", "organisation_id", "organisations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries_archive")),
    )
    for column in ("event_type", "request_id"):
        op.create_index(
            f"ix_webhook_deliveries_archive_{column}", "webhook_deliveries_archive", [column]
        )
    op.create_table(
        "webhook_attempts_archive",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        *attempt_columns(),
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
