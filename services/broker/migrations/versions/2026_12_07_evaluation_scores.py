"""evaluation scores: what a data bureau enters for the indicators the broker cannot compute

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db
from broker.migrations.tables import foreign_key

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation_scores",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        sa.Column("indicator", sa.String(length=60), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("entered_by_org_id", sa.String(length=64), nullable=False),
        sa.Column("entered_by_person_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        foreign_key("evaluation_scores", "entered_by_org_id", "organisations"),
        foreign_key("evaluation_scores", "entered_by_person_id", "people"),
        foreign_key("evaluation_scores", "organisation_id", "organisations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_scores")),
    )
    op.create_index(
        "ix_evaluation_scores_org_period",
        "evaluation_scores",
        ["organisation_id", "period_start"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_evaluation_scores_org_period", table_name="evaluation_scores")
    op.drop_table("evaluation_scores")
