"""app role

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 10:00:00.000000
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

logger = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    """The broker's own role (the user of DATABASE_URL, when MIGRATION_DATABASE_URL names the
    owner) may read and write every table, but only append to the audit log: no UPDATE, DELETE
    or TRUNCATE of `audit_log`, and no DELETE of a chain's head. Tables later revisions create
    (as the owner) get the same default privileges. On SQLite, or when the broker connects as
    the owner, or the role does not exist yet, nothing is granted (README, "The database roles")."""
    role = context.config.attributes.get("app_role")
    connection = op.get_bind()
    if connection.dialect.name != "postgresql" or not role:
        return
    if not connection.scalar(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}):
        logger.warning("no role %s: nothing granted; create it and grant by hand", role)
        return
    quote = connection.dialect.identifier_preparer.quote
    app = quote(role)
    schema = quote(connection.scalar(sa.text("SELECT current_schema()")))
    for statement in (
        f"GRANT USAGE ON SCHEMA {schema} TO {app}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {app}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {app}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema}"
        f" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {app}",
        f"REVOKE ALL ON audit_log FROM {app}",
        f"GRANT SELECT, INSERT ON audit_log TO {app}",
        f"REVOKE ALL ON audit_chain_heads FROM {app}",
        f"GRANT SELECT, INSERT, UPDATE ON audit_chain_heads TO {app}",
        f"REVOKE ALL ON alembic_version FROM {app}",
        f"GRANT SELECT ON alembic_version TO {app}",
    ):
        op.execute(statement)


def downgrade() -> None:
    # Privileges stay: a role that may do less is harmless to an older schema.
    pass
