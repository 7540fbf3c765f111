"""grant changes: the feed providers' guards follow

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db
from broker.migrations.tables import drop_table

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The inserting transaction's id (see GrantChange): xid8 as bigint, which orders the same and
    # compares with the snapshot's xmin cast the same way. SQLite's writers are serial: 0.
    postgres = op.get_bind().dialect.name == "postgresql"
    tx_default = sa.text("(pg_current_xact_id()::text::bigint)") if postgres else sa.text("0")
    op.create_table(
        "grant_changes",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tx", sa.BigInteger(), server_default=tx_default, nullable=False),
        sa.Column("grant_id", sa.String(length=40), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("grantee_id", sa.String(length=64), nullable=False),
        sa.Column("dataset_id", sa.String(length=100), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("ends_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("occurred_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_grant_changes")),
    )
    with op.batch_alter_table("grant_changes", schema=None) as batch_op:
        batch_op.create_index("ix_grant_changes_position", ["tx", "seq"], unique=False)
        batch_op.create_index(
            "ix_grant_changes_provider_position", ["provider_id", "tx", "seq"], unique=False
        )
    # Grants issued before the feed existed: one row each with its current status, so a guard's
    # first snapshot knows the paused and revoked ones.
    op.execute(
        "INSERT INTO grant_changes (grant_id, provider_id, grantee_id, dataset_id, event, status,"
        " ends_at, occurred_at) SELECT id, provider_id, grantee_id, dataset_id, 'issued', status,"
        " ends_at, created_at FROM grants ORDER BY created_at, id"
    )


def downgrade() -> None:
    drop_table("grant_changes", "ix_grant_changes_provider_position", "ix_grant_changes_position")
