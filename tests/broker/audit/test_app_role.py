"""The broker's database role may append to the audit log and read it, never change it: every
migrate run as the owner grants it no UPDATE, DELETE or TRUNCATE on `audit_log`."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.audit import service as audit
from broker.audit.actor import SYSTEM, Actor
from broker.audit.keys import audit_keys_from_settings
from broker.migrate import app_role_of, upgrade
from core.db import create_engine, create_sessionmaker
from core.models.audit import AuditChainHead, AuditEntry
from testing.database import in_schema
from testing.settings import Settings

pytestmark = pytest.mark.integration
Sessions = async_sessionmaker[AsyncSession]


def test_the_app_role_is_the_user_of_database_url_when_migrations_run_as_another() -> None:
    app = "postgresql+asyncpg://cdo_app:a@db/cdo"
    owner = "postgresql+asyncpg://cdo:o@db/cdo"
    assert app_role_of(app, owner) == "cdo_app"
    assert app_role_of(app, None) is None
    assert app_role_of(owner, owner) is None
    assert app_role_of("sqlite+aiosqlite:///x.db", None) is None


async def test_the_broker_role_cannot_update_delete_or_truncate_audit_rows(
    sessionmaker: Sessions, owner_sessionmaker: Sessions
) -> None:
    async with sessionmaker() as session:
        entry = await audit.record(
            session, "test.role", actor=Actor("gz-gaj"), subject="role-check"
        )
        await session.commit()
    refused: list[Any] = [
        update(AuditEntry).where(AuditEntry.id == entry.id).values(actor="gz-rsj"),
        delete(AuditEntry).where(AuditEntry.id == entry.id),
        text("TRUNCATE audit_log"),
        delete(AuditChainHead).where(AuditChainHead.chain == entry.chain),
    ]
    for statement in refused:
        async with sessionmaker() as session:
            with pytest.raises(DBAPIError, match="permission denied"):
                await session.execute(statement)
    async with sessionmaker() as session:
        stored = await session.get_one(AuditEntry, entry.id)
        assert (stored.actor, stored.hash) == ("gz-gaj", entry.hash)
        user = await session.scalar(select(text("current_user")))
    async with owner_sessionmaker() as session:  # the owner, who migrates, still may
        owner = await session.scalar(select(text("current_user")))
        await session.execute(update(AuditEntry).where(AuditEntry.id == entry.id).values(actor="x"))
        await session.rollback()
    assert user != owner


async def test_a_database_migrated_before_the_role_existed_gets_its_grants_at_the_next_migrate(
    database_url: str, owner_database_url: str, settings: Settings
) -> None:
    """The grants are not a one-time revision: a database at the newest revision, migrated by a
    run that named no role, gets them from the next `migrate` that does."""
    schema = f"roles_{secrets.token_hex(4)}"
    owner = create_engine(owner_database_url)
    async with owner.begin() as connection:
        await connection.execute(text(f"CREATE SCHEMA {schema}"))
    app = create_engine(in_schema(database_url, schema))
    sessions = create_sessionmaker(app, audit_keys=audit_keys_from_settings(settings))
    role = app_role_of(database_url, owner_database_url)
    try:
        await asyncio.to_thread(upgrade, in_schema(owner_database_url, schema))  # no role named
        async with sessions() as session:  # not even the schema is the role's to use
            with pytest.raises(DBAPIError, match='relation "audit_log" does not exist'):
                await session.execute(select(AuditEntry.id))
        await asyncio.to_thread(upgrade, in_schema(owner_database_url, schema), app_role=role)
        async with sessions() as session:
            entry = await audit.record(session, "test.role", actor=SYSTEM, subject="later")
            await session.commit()
            with pytest.raises(DBAPIError, match="permission denied"):
                await session.execute(delete(AuditEntry).where(AuditEntry.id == entry.id))
    finally:
        await app.dispose()
        async with owner.begin() as connection:
            await connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        await owner.dispose()
