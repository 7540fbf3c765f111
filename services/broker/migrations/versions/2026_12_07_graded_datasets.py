"""graded datasets: the Data Security Law's grade, the catalog attributes, and a draft state for
the entries an approved demand creates

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        # Every dataset catalogued before grades is general data until its owner grades it.
        batch_op.add_column(
            sa.Column("grade", sa.String(length=10), nullable=False, server_default="general")
        )
        batch_op.add_column(sa.Column("resource_code", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("sharing_conditions", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("sharing_method", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("update_cycle", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("open_attribute", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column("status", sa.String(length=10), nullable=False, server_default="published")
        )
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.alter_column("grade", server_default=None)
        batch_op.alter_column("status", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        for column in (
            "status",
            "open_attribute",
            "update_cycle",
            "sharing_method",
            "sharing_conditions",
            "resource_code",
            "grade",
        ):
            batch_op.drop_column(column)
