"""directory version numbers: the directory's counter numbered by a sequence

A change rolled back after its own transaction read the directory (and a process kept what it
read, at the number the change gave the counter) must not give that number back: with
`version + 1` the next change to commit took it, and the process's copy then passed for the
database's. A sequence's numbers are never taken back.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-14 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _bump(value: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION bump_directory_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('UPDATE %I.directory_version SET version = {value}', TG_TABLE_SCHEMA,
                   quote_ident(TG_TABLE_SCHEMA) || '.directory_version_numbers');
    RETURN NULL;
END
$$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has no trigger (revision 0015)
    op.execute("CREATE SEQUENCE directory_version_numbers")
    # The counter's row locked first: a change in flight under the old trigger commits (or rolls
    # back) before the sequence starts, and none starts until this revision commits. The first
    # number is far past the counter's, past every number a rolled-back change took meanwhile
    # with `version + 1`, which a running process may keep.
    op.execute("SELECT version FROM directory_version WHERE id = 1 FOR UPDATE")
    op.execute(
        "SELECT setval('directory_version_numbers', version + 1000000, false)"
        " FROM directory_version WHERE id = 1"
    )
    op.execute(_bump("nextval(%L)"))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_bump("version + 1"))  # format() ignores the sequence's name it is given
    op.execute("DROP SEQUENCE directory_version_numbers")
