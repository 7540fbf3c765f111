"""The audit log is several hash chains: each row joins its subject's chain (or its
transaction's first chain), writers of different chains do not wait for each other, writers of
one chain do, and `verify` still catches a row edited, removed or moved to another chain."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.audit import service as audit
from broker.audit.actor import SYSTEM
from broker.audit.verification import verify
from broker.kit import deps
from core.db import create_sessionmaker
from core.models import Base
from core.models.audit import AuditEntry
from testing.audit import row_of, subject_in

pytestmark = pytest.mark.integration
Sessions = async_sessionmaker[AsyncSession]


async def record(session: AsyncSession, subject: str, **detail: Any) -> AuditEntry:
    return await audit.record(session, "test.chained", actor=SYSTEM, subject=subject, **detail)


async def test_chains_spread_subjects_and_one_transaction_keeps_its_first_chain(
    sessionmaker: Sessions,
) -> None:
    assert len({audit.chain_of(f"cli_{n}") for n in range(200)}) == audit.CHAINS
    assert audit.chain_of(None) == 0
    first = subject_in(3)
    other = subject_in(0, not_in=3)
    async with sessionmaker() as session:
        a = await record(session, first)
        b = await record(session, other)
        await session.commit()
    assert (a.chain, b.chain) == (3, 3)
    assert b.prev_hash == a.hash
    async with sessionmaker() as session:
        c = await record(session, other)
        await session.commit()
    assert c.chain == audit.chain_of(other)
    async with sessionmaker() as session:
        assert (await verify(session)).ok


async def test_write_appends_the_row_record_would_in_the_same_chain(sessionmaker: Sessions) -> None:
    # `write` (a token's row, built without a model) chains as `record` does: after a first row
    # in the transaction's chain, with the content and hash `verify` recomputes.
    first = subject_in(6)
    other = subject_in(0, not_in=6)
    async with sessionmaker() as session:
        a = await record(session, first)
        await audit.write(
            session, "test.chained", actor=SYSTEM, subject=other, scope="x", error=None
        )
        await session.commit()
    async with sessionmaker() as session:
        written = await session.scalar(select(AuditEntry).where(AuditEntry.prev_hash == a.hash))
        assert written is not None
        assert (written.chain, written.subject, written.action) == (6, other, "test.chained")
        assert (written.actor, written.client_id, written.person_id) == (None, None, None)
        assert written.detail == {"scope": "x", "error": None}
        assert written.key_id == a.key_id
        assert (await verify(session)).ok


async def test_write_on_a_connection_appends_the_row_record_would(sessionmaker: Sessions) -> None:
    # A client-credentials token's row (`Sessions.on_connection`): appended on the autocommit
    # connection, the session never begun, in its subject's chain after the chain's newest row,
    # with the content and hash `verify` recomputes.
    autocommit = sessionmaker.kw["bind"].execution_options(isolation_level="AUTOCOMMIT")
    sessions = deps.Sessions(
        sessionmaker, create_sessionmaker(autocommit, **sessionmaker.kw["info"])
    )
    async with sessionmaker() as session:
        a = await record(session, subject_in(9))
        await session.commit()
    subject = subject_in(9)
    async with sessions.on_connection() as session:
        await audit.write(
            session, "test.chained", actor=SYSTEM, subject=subject, scope="x", error=None
        )
        assert not session.in_transaction()
    async with sessionmaker() as session:
        written = await session.scalar(select(AuditEntry).where(AuditEntry.prev_hash == a.hash))
        assert written is not None
        assert (written.chain, written.subject, written.action) == (9, subject, "test.chained")
        assert written.detail == {"scope": "x", "error": None}
        assert written.key_id == a.key_id
        assert (await verify(session)).ok


@pytest.mark.parametrize(
    "detail",
    [
        {"scope": "x", "error": None},
        {"scope": "日本\ud800", "empty": ""},
        {"fields": ("a", "b"), "at": datetime(2026, 1, 2, tzinfo=UTC), "n": 3, "scope": None},
    ],
)
def test_a_detail_is_kept_as_its_json_column_reads_it_back(detail: dict[str, Any]) -> None:
    # Text and null are copied as they are, anything else goes through JSON: the same either way.
    stored = audit._as_stored(detail)
    assert stored == json.loads(json.dumps(detail, default=str))
    assert stored is not detail


async def test_writers_of_different_chains_do_not_wait_and_of_one_chain_do(
    sessionmaker: Sessions,
) -> None:
    async with sessionmaker() as holder:
        await record(holder, subject_in(5))  # chain 5's lock, held until this commits
        async with sessionmaker() as elsewhere:
            # Refuses instead of waiting, so a wait shows as an error rather than a hang.
            await elsewhere.execute(text("SET LOCAL lock_timeout = '50ms'"))
            await record(elsewhere, subject_in(0, not_in=5))
            await elsewhere.commit()
        async with sessionmaker() as same_chain:
            await same_chain.execute(text("SET LOCAL lock_timeout = '50ms'"))
            with pytest.raises(DBAPIError, match="lock timeout"):
                await record(same_chain, subject_in(5))
        await holder.commit()


async def test_verify_finds_a_row_removed_from_the_middle_of_a_chain_or_moved_out_of_it(
    sessionmaker: Sessions, owner_sessionmaker: Sessions
) -> None:
    async with sessionmaker() as session:
        written = []
        for step in range(3):  # three transactions, one chain
            written.append(await record(session, subject_in(7), step=step))
            await session.commit()
    middle, after = written[1], written[2]
    assert middle.chain == after.chain == 7
    assert after.prev_hash == middle.hash
    async with owner_sessionmaker() as session:
        original = row_of(await session.get_one(AuditEntry, middle.id))
        await session.execute(delete(AuditEntry).where(AuditEntry.id == middle.id))
        verdict = await verify(session)
        await session.rollback()
    assert verdict.broken_at == after.id
    assert verdict.reason == "a row before it was removed or changed"

    async with owner_sessionmaker() as session:
        await session.execute(update(AuditEntry).where(AuditEntry.id == middle.id).values(chain=8))
        verdict = await verify(session)
        await session.rollback()
    assert verdict.broken_at is not None
    assert verdict.broken_at <= after.id

    async with owner_sessionmaker() as session:
        await session.execute(
            update(AuditEntry).where(AuditEntry.id == middle.id).values(detail={"step": 9})
        )
        verdict = await verify(session)
        await session.rollback()
    assert (verdict.broken_at, verdict.reason) == (middle.id, "its content was changed")

    async with sessionmaker() as session:
        stored = row_of(await session.get_one(AuditEntry, middle.id))
        assert stored == original
        assert (await verify(session)).ok
        ids = await session.scalars(select(AuditEntry.id).where(AuditEntry.chain == 7))
        assert {middle.id, after.id} <= set(ids)


async def test_the_migration_makes_the_table_the_model_describes(sessionmaker: Sessions) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [d for d in compare_metadata(context, Base.metadata) if "audit_log" in repr(d)]

    async with sessionmaker() as session:
        connection = await session.connection()
        assert await connection.run_sync(differences) == []


async def test_verify_finds_the_newest_rows_of_a_chain_removed(
    sessionmaker: Sessions, owner_sessionmaker: Sessions
) -> None:
    async with sessionmaker() as session:
        older = await record(session, subject_in(9))
        await session.commit()
        newest = await record(session, subject_in(9))
        await session.commit()
    async with owner_sessionmaker() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.id == newest.id))
        verdict = await verify(session)
        await session.rollback()
    assert verdict.reason == "the newest rows of chain 9 were removed"
    assert verdict.broken_at is not None
    assert verdict.broken_at >= older.id
    async with sessionmaker() as session:
        assert (await verify(session)).ok
