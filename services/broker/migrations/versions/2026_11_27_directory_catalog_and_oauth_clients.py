"""directory catalog and oauth clients

Revision ID: 0001
Revises:
Create Date: 2026-11-27 05:52:20.969465
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db
from broker.migrations.tables import drop_table, foreign_key, index_columns

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("government_id", sa.String(length=64), nullable=True),
        sa.Column("parent_id", sa.String(length=64), nullable=True),
        sa.Column("pilot", sa.Boolean(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        foreign_key("organisations", "government_id", "organisations"),
        foreign_key("organisations", "parent_id", "organisations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
    )
    index_columns("organisations", "division_code", "government_id", "level", "parent_id")

    op.create_table(
        "cdo_appointments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        sa.Column("person_name", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("appointed_by", sa.String(length=200), nullable=False),
        sa.Column("filed_with_id", sa.String(length=64), nullable=False),
        sa.Column("starts_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.Column("created_by_org_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        foreign_key("cdo_appointments", "created_by_org_id", "organisations"),
        foreign_key("cdo_appointments", "filed_with_id", "organisations"),
        foreign_key("cdo_appointments", "organisation_id", "organisations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdo_appointments")),
    )
    with op.batch_alter_table("cdo_appointments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cdo_appointments_org_window", ["organisation_id", "starts_at"], unique=False
        )

    op.create_table(
        "datasets",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("sharing_class", sa.String(length=20), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        foreign_key("datasets", "owner_id", "organisations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
    )
    index_columns("datasets", "owner_id", "sharing_class")

    op.create_table(
        "oauth_clients",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", core.db.UTCDateTime(timezone=True), nullable=True),
        foreign_key("oauth_clients", "organisation_id", "organisations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_clients")),
    )
    index_columns("oauth_clients", "organisation_id")

    op.create_table(
        "cdo_delegations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("appointment_id", sa.String(length=40), nullable=False),
        sa.Column("delegate_name", sa.String(length=100), nullable=False),
        sa.Column("delegate_title", sa.String(length=100), nullable=False),
        sa.Column("delegate_org_id", sa.String(length=64), nullable=False),
        sa.Column("starts_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("revoked_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        foreign_key("cdo_delegations", "appointment_id", "cdo_appointments"),
        foreign_key("cdo_delegations", "delegate_org_id", "organisations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdo_delegations")),
    )
    index_columns("cdo_delegations", "appointment_id", "delegate_org_id")


def downgrade() -> None:
    drop_table(
        "cdo_delegations", "ix_cdo_delegations_delegate_org_id", "ix_cdo_delegations_appointment_id"
    )
    drop_table("oauth_clients", "ix_oauth_clients_organisation_id")
    drop_table("datasets", "ix_datasets_sharing_class", "ix_datasets_owner_id")
    drop_table("cdo_appointments", "ix_cdo_appointments_org_window")
    drop_table(
        "organisations",
        "ix_organisations_parent_id",
        "ix_organisations_level",
        "ix_organisations_government_id",
        "ix_organisations_division_code",
    )
