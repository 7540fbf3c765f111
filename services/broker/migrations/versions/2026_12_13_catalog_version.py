"""catalog version: a counter every change to the catalog's datasets bumps

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-13 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

from broker.migrations.tables import version_counter

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    version_counter("catalog_version")
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite (one process) keeps no copy of the catalog: nothing reads the counter
    # As the directory's version (revisions 0015 and 0028): after each statement that writes the
    # datasets, in its transaction, in the schema of the table written; numbered by a sequence,
    # which no rollback takes back, so a number a rolled-back change was read at is never the
    # number of what commits later.
    op.execute("CREATE SEQUENCE catalog_version_numbers")
    op.execute(
        """CREATE FUNCTION bump_catalog_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('UPDATE %I.catalog_version SET version = nextval(%L)', TG_TABLE_SCHEMA,
                   quote_ident(TG_TABLE_SCHEMA) || '.catalog_version_numbers');
    RETURN NULL;
END
$$"""
    )
    op.execute(
        "CREATE TRIGGER datasets_catalog_version"
        " AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON datasets"
        " FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER datasets_catalog_version ON datasets")
        op.execute("DROP FUNCTION bump_catalog_version()")
        op.execute("DROP SEQUENCE catalog_version_numbers")
    op.drop_table("catalog_version")
