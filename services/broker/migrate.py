"""`cdo-broker migrate`: bring the database schema to the newest Alembic revision."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from broker.audit.keys import AuditKeys

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(slug)s")
    config.set_main_option("sqlalchemy.url", database_url)
    return config


def upgrade(
    database_url: str,
    revision: str = "head",
    *,
    app_role: str | None = None,
    audit_keys: Callable[[], AuditKeys] | None = None,
) -> None:
    """Migrate the database at `database_url` (its owner's URL).

    `app_role`: the role the broker connects as, if another; it is granted what the broker may
    do and no UPDATE or DELETE of audit rows (migrations/privileges.py), at every run.
    `audit_keys`: called if a revision needs them (0011 seals chains written unkeyed); without
    it such a revision reads AUDIT_KEY from the environment."""
    config = alembic_config(database_url)
    config.attributes["app_role"] = app_role
    if audit_keys is not None:
        config.attributes["audit_keys"] = audit_keys
    command.upgrade(config, revision)


def app_role_of(database_url: str, migration_database_url: str | None) -> str | None:
    """The broker's own role when migrations run as another one, else None."""
    if not migration_database_url:
        return None
    app, owner = make_url(database_url).username, make_url(migration_database_url).username
    return app if app and app != owner else None
