"""demands and IT projects: a request may name no dataset (a demand until approved, an IT
project), and records who filed it (an IT project's separation of duties is by person)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.alter_column("dataset_id", existing_type=sa.String(length=100), nullable=True)
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("project", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("filed_by_person_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("filed_by_client_id", sa.String(length=100), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_requests_filed_by_person_id_people"),
            "people",
            ["filed_by_person_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_requests_filed_by_person_id_people"), type_="foreignkey"
        )
        for column in ("filed_by_client_id", "filed_by_person_id", "project", "description"):
            batch_op.drop_column(column)
        batch_op.alter_column("dataset_id", existing_type=sa.String(length=100), nullable=False)
