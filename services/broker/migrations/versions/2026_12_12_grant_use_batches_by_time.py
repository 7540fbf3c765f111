"""grant use batches by time: the prune that every batch's statement runs (rows older than a
day) reads an index instead of the whole table, which holds up to a row every flush interval

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-12 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_grant_use_batches_flushed_at"), "grant_use_batches", ["flushed_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_grant_use_batches_flushed_at"), table_name="grant_use_batches")
