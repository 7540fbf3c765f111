"""decisions by time: the evaluation's window over a year of decisions reads an index that
carries what it counts (PostgreSQL: an index-only scan) instead of the whole table with its
signatures

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-10 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_decisions_created",
        "decisions",
        ["created_at"],
        unique=False,
        postgresql_include=[
            "organisation_id",
            "appointment_id",
            "decision",
            "delegation_id",
            "clock_seconds",
            "working_seconds",
            "request_id",
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_decisions_created", table_name="decisions")
