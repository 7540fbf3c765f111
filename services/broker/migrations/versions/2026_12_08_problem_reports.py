"""problem reports: coordination problems filed with the provincial data bureau, and answers

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from broker.migrations.tables import When, foreign_key

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "problem_reports",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("reporter_id", sa.String(length=64), nullable=False),
        sa.Column("reported_by_client", sa.String(length=100), nullable=True),
        sa.Column("reported_by_person_id", sa.String(length=40), nullable=True),
        sa.Column("addressed_to", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.String(length=200), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("concerned_organisations", sa.JSON(), nullable=False),
        sa.Column("concerned_requests", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("answered_by_client", sa.String(length=100), nullable=True),
        sa.Column("answered_by_person_id", sa.String(length=40), nullable=True),
        sa.Column("answered_at", When, nullable=True),
        sa.Column("created_at", When, nullable=False),
        foreign_key("problem_reports", "reporter_id", "organisations"),
        foreign_key("problem_reports", "addressed_to", "organisations"),
        foreign_key("problem_reports", "reported_by_person_id", "people"),
        foreign_key("problem_reports", "answered_by_person_id", "people"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problem_reports")),
    )
    op.create_index(
        "ix_problem_reports_reporter", "problem_reports", ["reporter_id", "id"], unique=False
    )
    op.create_index(
        "ix_problem_reports_addressed", "problem_reports", ["addressed_to", "id"], unique=False
    )
    op.create_table(
        "problem_named_organisations",
        sa.Column("problem_id", sa.String(length=40), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        sa.Column("reported_at", When, nullable=False),
        foreign_key("problem_named_organisations", "problem_id", "problem_reports"),
        foreign_key("problem_named_organisations", "organisation_id", "organisations"),
        sa.PrimaryKeyConstraint(
            "problem_id", "organisation_id", name=op.f("pk_problem_named_organisations")
        ),
    )
    op.create_index(
        "ix_problem_named_organisations_org",
        "problem_named_organisations",
        ["organisation_id", "problem_id"],
        unique=False,
    )
    op.create_table(
        "problem_named_requests",
        sa.Column("problem_id", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        foreign_key("problem_named_requests", "problem_id", "problem_reports"),
        foreign_key("problem_named_requests", "request_id", "requests"),
        sa.PrimaryKeyConstraint("problem_id", "request_id", name=op.f("pk_problem_named_requests")),
    )
    op.create_index(
        "ix_problem_named_requests_request",
        "problem_named_requests",
        ["request_id", "problem_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_problem_named_requests_request", table_name="problem_named_requests")
    op.drop_table("problem_named_requests")
    op.drop_index("ix_problem_named_organisations_org", table_name="problem_named_organisations")
    op.drop_table("problem_named_organisations")
    op.drop_index("ix_problem_reports_addressed", table_name="problem_reports")
    op.drop_index("ix_problem_reports_reporter", table_name="problem_reports")
    op.drop_table("problem_reports")
