"""What the broker's own database role may do: read and write every table, but only append to
the audit log (no UPDATE, DELETE or TRUNCATE of `audit_log`, no DELETE of a chain's head).

Applied at the end of every `cdo-broker migrate` that runs as the owner (MIGRATION_DATABASE_URL)
for the role of DATABASE_URL, not once in a revision: a database first migrated before the role
existed, or by a run that named no role, would otherwise never get them, and tables a revision
adds get theirs the same way. Every statement is idempotent. Nothing happens on SQLite, without
a role, or when the role does not exist (a warning says so).
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.engine import Connection

logger = logging.getLogger("alembic.runtime.migration")


def grant_app_role(connection: Connection, role: str | None) -> bool:
    """True if the role now has exactly the broker's privileges."""
    if connection.dialect.name != "postgresql" or not role:
        return False
    if not connection.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}):
        logger.warning("no database role %s: nothing granted (create it, then migrate again)", role)
        return False
    quote = connection.dialect.identifier_preparer.quote
    app = quote(role)
    schema = quote(connection.scalar(text("SELECT current_schema()")))
    for statement in (
        f"GRANT USAGE ON SCHEMA {schema} TO {app}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {app}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {app}",
        f"REVOKE ALL ON audit_log FROM {app}",
        f"GRANT SELECT, INSERT ON audit_log TO {app}",
        f"REVOKE ALL ON audit_chain_heads FROM {app}",
        f"GRANT SELECT, INSERT, UPDATE ON audit_chain_heads TO {app}",
        f"REVOKE ALL ON alembic_version FROM {app}",
        f"GRANT SELECT ON alembic_version TO {app}",
    ):
        connection.execute(text(statement))
    return True
