"""step approvers by request

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 10:05:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every read of a request's route (load_route, the request's description) filters
    # step_approvers by request_id; only (organisation_id, request_id) was indexed.
    with op.batch_alter_table("step_approvers", schema=None) as batch_op:
        batch_op.create_index("ix_step_approvers_request", ["request_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("step_approvers", schema=None) as batch_op:
        batch_op.drop_index("ix_step_approvers_request")
