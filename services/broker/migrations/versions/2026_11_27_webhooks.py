"""webhooks

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 06:56:48.106808
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db
from broker.migrations.tables import (
    attempt_columns,
    delivery_columns,
    drop_table,
    foreign_key,
    index_columns,
)

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(length=60), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        *delivery_columns(),
        foreign_key("webhook_deliveries", "organisation_id", "organisations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_deliveries_due", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_webhook_deliveries_event_type"), ["event_type"], unique=False
        )
        batch_op.create_index(
            "ix_webhook_deliveries_org", ["organisation_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_webhook_deliveries_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("secret_ciphertext", sa.Text(), nullable=False),
        sa.Column("previous_secret_ciphertext", sa.Text(), nullable=True),
        sa.Column("previous_valid_until", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("disabled_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        foreign_key("webhook_endpoints", "organisation_id", "organisations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
        sa.UniqueConstraint("organisation_id", name=op.f("uq_webhook_endpoints_organisation_id")),
    )
    op.create_table(
        "webhook_attempts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        *attempt_columns(),
        foreign_key("webhook_attempts", "delivery_id", "webhook_deliveries"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    index_columns("webhook_attempts", "delivery_id")


def downgrade() -> None:
    drop_table("webhook_attempts", "ix_webhook_attempts_delivery_id")
    op.drop_table("webhook_endpoints")
    drop_table(
        "webhook_deliveries",
        "ix_webhook_deliveries_request_id",
        "ix_webhook_deliveries_org",
        "ix_webhook_deliveries_event_type",
        "ix_webhook_deliveries_due",
    )
