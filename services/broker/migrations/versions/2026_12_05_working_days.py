"""working days: steps' limits in working days, their office time on hold and calendar note;
decisions' working time

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Steps filed before keep their deadlines in elapsed seconds (sla_working_days null), and
    # decisions made before have no working time (the evaluation leaves them out of it).
    with op.batch_alter_table("request_steps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sla_working_days", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("held_working_seconds", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("calendar_note", sa.Text(), nullable=True))
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("working_seconds", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_column("working_seconds")
    with op.batch_alter_table("request_steps", schema=None) as batch_op:
        batch_op.drop_column("calendar_note")
        batch_op.drop_column("held_working_seconds")
        batch_op.drop_column("sla_working_days")
