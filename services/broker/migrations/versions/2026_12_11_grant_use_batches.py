"""grant use batches: introspections' uses are counted in Redis and added to `grants` in
batches, each recorded by its id so that a batch added twice (a crash between the commit and
Redis forgetting it) counts once

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-11 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "grant_use_batches",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column(
            "flushed_at",
            core.db.UTCDateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grant_use_batches")),
    )


def downgrade() -> None:
    op.drop_table("grant_use_batches")
