"""people: person accounts, their sessions, OIDC codes and refresh tokens; appointments and
decisions name the person

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from broker.migrations.tables import When, foreign_key

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("totp_secret", sa.Text(), nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("disabled_at", When, nullable=True),
        foreign_key("people", "organisation_id", "organisations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("username", name=op.f("uq_people_username")),
    )
    op.create_index(op.f("ix_people_organisation_id"), "people", ["organisation_id"])
    op.create_table(
        "person_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("expires_at", When, nullable=False),
        sa.Column("ended_at", When, nullable=True),
        foreign_key("person_sessions", "person_id", "people"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_sessions")),
    )
    op.create_index(op.f("ix_person_sessions_person_id"), "person_sessions", ["person_id"])
    for table in ("oauth_authorization_codes", "oauth_refresh_tokens"):
        specific = (
            [
                sa.Column("redirect_uri", sa.Text(), nullable=False),
                sa.Column("scope", sa.Text(), nullable=False),
                sa.Column("nonce", sa.Text(), nullable=True),
                sa.Column("code_challenge", sa.String(length=128), nullable=False),
                sa.Column("code_challenge_method", sa.String(length=10), nullable=False),
                sa.Column("auth_time", When, nullable=False),
                sa.Column("expires_at", When, nullable=False),
                sa.Column("used_at", When, nullable=True),
            ]
            if table == "oauth_authorization_codes"
            else [
                sa.Column("scope", sa.Text(), nullable=False),
                sa.Column("issued_at", When, nullable=False),
                sa.Column("expires_at", When, nullable=False),
                sa.Column("revoked_at", When, nullable=True),
            ]
        )
        op.create_table(
            table,
            sa.Column("id", sa.String(length=64), nullable=False),
            sa.Column("client_id", sa.String(length=64), nullable=False),
            sa.Column("person_id", sa.String(length=40), nullable=False),
            *specific,
            foreign_key(table, "client_id", "oauth_clients"),
            foreign_key(table, "person_id", "people"),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        )
        op.create_index(op.f(f"ix_{table}_person_id"), table, ["person_id"])
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("redirect_uris", sa.Text(), nullable=True))
    with op.batch_alter_table("cdo_appointments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_id", sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_cdo_appointments_person_id_people"), "people", ["person_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_cdo_appointments_person_id"), ["person_id"])
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decided_by_person_id", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("decided_by_person_name", sa.String(length=100), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_decisions_decided_by_person_id_people"),
            "people",
            ["decided_by_person_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_decisions_decided_by_person_id_people"), type_="foreignkey"
        )
        batch_op.drop_column("decided_by_person_name")
        batch_op.drop_column("decided_by_person_id")
    with op.batch_alter_table("cdo_appointments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cdo_appointments_person_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_cdo_appointments_person_id_people"), type_="foreignkey"
        )
        batch_op.drop_column("person_id")
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.drop_column("redirect_uris")
    for table in ("oauth_refresh_tokens", "oauth_authorization_codes", "person_sessions"):
        op.drop_table(table)
    op.drop_index(op.f("ix_people_organisation_id"), table_name="people")
    op.drop_table("people")
