"""appointment filing: when each CDO appointment was filed (备案) and its receipt, numbered per
bureau and year

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 10:00:00.000000
"""

from collections.abc import Sequence
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHINA = ZoneInfo("Asia/Shanghai")


def upgrade() -> None:
    with op.batch_alter_table("cdo_appointments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("filed_at", core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("filing_year", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("filing_sequence", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("filing_receipt", sa.String(length=40), nullable=True))
    _receipts_for_existing_appointments()
    with op.batch_alter_table("cdo_appointments", schema=None) as batch_op:
        for column in ("filed_at", "filing_year", "filing_sequence", "filing_receipt"):
            batch_op.alter_column(column, nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_cdo_appointments_filed_with_id"),
            ["filed_with_id", "filing_year", "filing_sequence"],
        )


def _receipts_for_existing_appointments() -> None:
    """Appointments filed before receipts existed get theirs now, as filed when they were
    recorded, numbered in that order per bureau and year (as directory/filing.py numbers them;
    the migration keeps its own copy of the format, so that it never changes under it)."""
    moment = core.db.UTCDateTime(timezone=True)
    appointments = sa.table(
        "cdo_appointments",
        sa.column("id", sa.String),
        sa.column("filed_with_id", sa.String),
        sa.column("created_at", moment),
        sa.column("filed_at", moment),
        sa.column("filing_year", sa.Integer),
        sa.column("filing_sequence", sa.Integer),
        sa.column("filing_receipt", sa.String),
    )
    organisations = sa.table(
        "organisations", sa.column("id", sa.String), sa.column("division_code", sa.String)
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            appointments.c.id,
            appointments.c.filed_with_id,
            appointments.c.created_at,
            organisations.c.division_code,
        )
        .join(organisations, organisations.c.id == appointments.c.filed_with_id)
        .order_by(appointments.c.filed_with_id, appointments.c.created_at, appointments.c.id)
    ).all()
    sequences: dict[tuple[str, int], int] = {}
    for appointment_id, bureau_id, filed_at, division_code in rows:
        year = filed_at.astimezone(CHINA).year
        sequence = sequences[(bureau_id, year)] = sequences.get((bureau_id, year), 0) + 1
        connection.execute(
            sa.update(appointments)
            .where(appointments.c.id == appointment_id)
            .values(
                filed_at=filed_at,
                filing_year=year,
                filing_sequence=sequence,
                filing_receipt=f"{division_code}-{year}-{sequence:04d}",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("cdo_appointments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_cdo_appointments_filed_with_id"), type_="unique")
        batch_op.drop_column("filing_receipt")
        batch_op.drop_column("filing_sequence")
        batch_op.drop_column("filing_year")
        batch_op.drop_column("filed_at")
