"""audit chains

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 11:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The log becomes several hash chains, each with its head in audit_chain_heads (see
    # broker/audit/service.py). The rows written so far are chain 0, which they continue; the
    # other chains' heads are created as they are first used.
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("chain", sa.SmallInteger(), server_default="0", nullable=False)
        )
    op.create_table(
        "audit_chain_heads",
        sa.Column("chain", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_audit_chain_heads")),
    )
    op.execute(
        "INSERT INTO audit_chain_heads (chain, prev_hash, hash)"
        " SELECT 0, prev_hash, hash FROM audit_log ORDER BY id DESC LIMIT 1"
    )


def downgrade() -> None:
    # Rows written since the upgrade interleave several chains, so they no longer verify as one.
    op.drop_table("audit_chain_heads")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("chain")
