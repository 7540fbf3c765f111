"""appeals: a requester's appeal (申请协调) against a rejection or a narrowed approval, and the
coordinators it passes through

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from broker.migrations.tables import When, foreign_key

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appeals",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("appellant_client", sa.String(length=100), nullable=True),
        sa.Column("appellant_person_id", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("grounds", sa.String(length=20), nullable=False),
        sa.Column("against", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("due_at", When, nullable=False),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("decided_by_org_id", sa.String(length=64), nullable=True),
        sa.Column("decided_by_appointment_id", sa.String(length=40), nullable=True),
        sa.Column("decided_by_client", sa.String(length=100), nullable=True),
        sa.Column("decided_by_person_id", sa.String(length=40), nullable=True),
        sa.Column("decided_by_person_name", sa.String(length=100), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("narrowing", sa.JSON(), nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("decided_at", When, nullable=True),
        foreign_key("appeals", "request_id", "requests"),
        foreign_key("appeals", "appellant_person_id", "people"),
        foreign_key("appeals", "decided_by_org_id", "organisations"),
        foreign_key("appeals", "decided_by_appointment_id", "cdo_appointments"),
        foreign_key("appeals", "decided_by_person_id", "people"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
        sa.UniqueConstraint("request_id", name=op.f("uq_appeals_request_id")),
    )
    op.create_index(op.f("ix_appeals_status"), "appeals", ["status"], unique=False)
    op.create_index(op.f("ix_appeals_due_at"), "appeals", ["due_at"], unique=False)
    op.create_table(
        "appeal_coordinators",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("appeal_id", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        sa.Column("escalated_from", sa.String(length=64), nullable=True),
        sa.Column("added_at", When, nullable=False),
        sa.Column("replaced_at", When, nullable=True),
        foreign_key("appeal_coordinators", "appeal_id", "appeals"),
        foreign_key("appeal_coordinators", "request_id", "requests"),
        foreign_key("appeal_coordinators", "organisation_id", "organisations"),
        foreign_key("appeal_coordinators", "escalated_from", "organisations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal_coordinators")),
    )
    op.create_index(op.f("ix_appeal_coordinators_appeal_id"), "appeal_coordinators", ["appeal_id"])
    op.create_index(
        op.f("ix_appeal_coordinators_request_id"), "appeal_coordinators", ["request_id"]
    )
    op.create_index(
        "ix_appeal_coordinators_org", "appeal_coordinators", ["organisation_id", "request_id"]
    )


def downgrade() -> None:
    op.drop_table("appeal_coordinators")
    op.drop_table("appeals")
