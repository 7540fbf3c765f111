"""directory version: a counter every change to the directory's tables bumps

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

from broker.migrations.tables import version_counter

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables the directory cache is built from (broker/directory/repository.py `VERSIONED`).
DIRECTORY_TABLES = ("organisations", "cdo_appointments", "cdo_delegations")


def upgrade() -> None:
    version_counter("directory_version")
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite (one process) keeps no directory cache: nothing reads the counter
    # After each statement that writes a directory table, in its transaction: the counter changes
    # when, and only when, the change commits, and every process sees both at once. The counter
    # is found in the schema of the table written, whatever the session's search_path.
    op.execute(
        """CREATE FUNCTION bump_directory_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('UPDATE %I.directory_version SET version = version + 1', TG_TABLE_SCHEMA);
    RETURN NULL;
END
$$"""
    )
    for table in DIRECTORY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_directory_version"
            f" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_version()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in DIRECTORY_TABLES:
            op.execute(f"DROP TRIGGER {table}_directory_version ON {table}")
        op.execute("DROP FUNCTION bump_directory_version()")
    op.drop_table("directory_version")
