"""The audit chain is keyed (AUDIT_KEY): each row's hash is an HMAC-SHA256 the database computes
and cannot forge, so rewriting a row and re-chaining with plain SHA-256 fails `audit verify`;
keys rotate; a log written before the chain was keyed still verifies after migrating."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.audit import service as audit
from broker.audit.actor import Actor
from broker.audit.keys import AuditKey, AuditKeys, new_key
from broker.audit.verification import verify
from broker.migrate import upgrade
from core.db import create_engine, create_sessionmaker
from core.models.audit import AuditChainHead, AuditEntry
from testing.audit import row_of, subject_in
from testing.database import Database
from testing.processes import cdo_broker
from testing.settings import Settings

pytestmark = pytest.mark.integration
Sessions = async_sessionmaker[AsyncSession]


async def record(session: AsyncSession, subject: str, **detail: Any) -> AuditEntry:
    actor = Actor("gz-gaj")
    return await audit.record(session, "test.keyed", actor=actor, subject=subject, **detail)


async def test_postgresql_computes_the_hmac_python_does_for_short_and_long_keys(
    settings: Settings, migrated: str
) -> None:
    engine = create_engine(migrated)
    try:
        # 100 bytes: longer than SHA-256's block, so RFC 2104 hashes the key first.
        for key in (AuditKeys.parse(settings.audit_key or "").current, AuditKey(b"k" * 100)):
            async with create_sessionmaker(engine, audit_keys=AuditKeys((key,)))() as session:
                entry = await record(session, subject_in(11), n=1, text="数据")
                await session.rollback()
            assert entry.key_id == key.id
            assert entry.hash == key.mac(audit.chained(entry.prev_hash, entry))
            assert entry.hash != audit.legacy_hash(entry.prev_hash, entry)
    finally:
        await engine.dispose()


async def _rehash_with_sha256(session: AsyncSession, rows: list[AuditEntry]) -> None:
    """What someone who can write the database but lacks the key would do: edit the first
    row, then re-chain it and the rows after it, and the chain's head, with plain SHA-256."""
    previous = rows[0].prev_hash
    for entry in rows:
        entry.hash = audit.legacy_hash(previous, entry)
        await session.execute(
            update(AuditEntry)
            .where(AuditEntry.id == entry.id)
            .values(detail=entry.detail, prev_hash=previous, hash=entry.hash, key_id=entry.key_id)
        )
        entry.prev_hash, previous = previous, entry.hash
    await session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.chain == rows[-1].chain)
        .values(prev_hash=rows[-1].prev_hash, hash=rows[-1].hash)
    )


async def test_rehashing_an_edited_row_and_its_head_with_sha256_fails_verify(
    sessionmaker: Sessions, owner_sessionmaker: Sessions, migrated: str
) -> None:
    async with sessionmaker() as session:
        written = []
        for step in range(3):
            written.append(await record(session, subject_in(12), step=step))
            await session.commit()
    first, edited, after = written
    async with owner_sessionmaker() as session:
        heads = await session.get_one(AuditChainHead, 12)
        head = (heads.prev_hash, heads.hash)
    originals = [row_of(entry) for entry in (edited, after)]
    forged = [AuditEntry(**row) for row in originals]
    forged[0].detail = {"step": 99}
    try:
        async with owner_sessionmaker() as session:
            await _rehash_with_sha256(session, forged)
            await session.commit()
        refused = cdo_broker("audit", "verify", database_url=migrated)
        assert refused.returncode == 1, refused.stdout
        assert f"BROKEN at row {edited.id}: its content was changed" in refused.stderr

        # Marked as written before the chain was keyed: refused after a keyed row.
        async with owner_sessionmaker() as session:
            for entry in forged:
                entry.key_id = None
            forged[0].prev_hash = first.hash
            await _rehash_with_sha256(session, forged)
            await session.commit()
        unkeyed = cdo_broker("audit", "verify", database_url=migrated)
        assert unkeyed.returncode == 1
        assert f"BROKEN at row {edited.id}: its hash is not keyed" in unkeyed.stderr
    finally:
        async with owner_sessionmaker() as session:
            for row in originals:
                await session.execute(
                    update(AuditEntry).where(AuditEntry.id == row["id"]).values(**row)
                )
            await session.execute(
                update(AuditChainHead)
                .where(AuditChainHead.chain == 12)
                .values(prev_hash=head[0], hash=head[1])
            )
            await session.commit()
    assert cdo_broker("audit", "verify", database_url=migrated).returncode == 0


@pytest.fixture
async def sqlite_log(sqlite_url: str) -> AsyncIterator[Any]:
    """A log in a SQLite file (the quick local run), and sessions over it with given keys."""
    await asyncio.to_thread(upgrade, sqlite_url)
    engine = create_engine(sqlite_url)

    def sessions(*keys: AuditKey) -> Sessions:
        return create_sessionmaker(engine, audit_keys=AuditKeys(keys))

    yield sessions
    await engine.dispose()


async def test_keys_rotate_and_a_dropped_key_is_named(sqlite_log: Any) -> None:
    old, new = AuditKey(b"o" * 32), AuditKey(b"n" * 32)
    async with sqlite_log(old)() as session:
        first = await record(session, "a")
        await session.commit()
    async with sqlite_log(new, old)() as session:
        second = await record(session, "a")
        await session.commit()
    assert (first.key_id, second.key_id) == (old.id, new.id)
    assert second.hash == new.mac(audit.chained(first.hash, second))
    async with sqlite_log(new, old)() as session:
        assert (await verify(session)).ok
    async with sqlite_log(new)() as session:
        verdict = await verify(session)
    assert verdict.broken_at == first.id
    assert verdict.reason == f"it was keyed with key {old.id}, which AUDIT_KEY does not hold"
    async with sqlite_log(AuditKey(b"x" * 32), new, old)() as session:
        assert (await verify(session)).ok  # an added key changes nothing already written


async def test_a_whole_chain_rewritten_unkeyed_is_refused(sqlite_log: Any) -> None:
    key = AuditKey(b"k" * 32)
    async with sqlite_log(key)() as session:
        rows = [await record(session, "a", n=n) for n in range(3)]
        await session.commit()
    forged = [AuditEntry(**row_of(entry)) for entry in rows]
    for entry in forged:
        entry.key_id = None
    forged[1].detail = {"n": 99}
    async with sqlite_log(key)() as session:
        await _rehash_with_sha256(session, forged)
        await session.commit()
        verdict = await verify(session)
    assert verdict.broken_at == rows[0].id
    assert verdict.reason == f"unkeyed rows of chain {rows[0].chain} that no keyed row follows"


def _legacy_chain(chain: int, subjects: list[str]) -> list[AuditEntry]:
    """Rows as the broker wrote them before the chain was keyed: plain SHA-256."""
    rows, previous = [], audit.GENESIS
    for n, subject in enumerate(subjects):
        entry = AuditEntry(
            occurred_at=datetime(2026, 11, 28, 9, n, tzinfo=UTC),
            actor="gz-gaj",
            client_id="cli_old",
            action="token.issued",
            subject=subject,
            detail={"n": n, "scope": "requests:read"},
            chain=chain,
            prev_hash=previous,
        )
        entry.hash = audit.legacy_hash(previous, entry)
        rows.append(entry)
        previous = entry.hash
    return rows


async def test_a_log_written_before_the_key_verifies_after_the_migration_and_stays_sealed(
    fresh_database: Database,
) -> None:
    db = fresh_database
    await asyncio.to_thread(upgrade, db.owner_url, "0009")
    legacy = {0: _legacy_chain(0, ["a", "b", "c"]), 5: _legacy_chain(5, ["d", "e"])}
    owner, app = create_engine(db.owner_url), create_engine(db.app_url)
    columns = ("occurred_at", "actor", "client_id", "action", "subject", "detail", "chain")
    async with owner.begin() as connection:
        for chain, rows in legacy.items():
            for entry in rows:
                values = {c: getattr(entry, c) for c in (*columns, "prev_hash", "hash")}
                await connection.execute(insert(AuditEntry.__table__).values(values))
            await connection.execute(
                insert(AuditChainHead).values(
                    chain=chain, prev_hash=rows[-1].prev_hash, hash=rows[-1].hash
                )
            )
    key = AuditKeys.parse(new_key())
    await asyncio.to_thread(upgrade, db.owner_url, app_role=db.app_role, audit_keys=lambda: key)
    sessions = create_sessionmaker(app, audit_keys=key)
    try:
        async with sessions() as session:
            assert (await verify(session)).ok
            seals = list(
                await session.scalars(
                    select(AuditEntry).where(AuditEntry.action == "audit.keyed").order_by("chain")
                )
            )
            assert [(s.chain, s.prev_hash, s.key_id) for s in seals] == [
                (0, legacy[0][-1].hash, key.current.id),
                (5, legacy[5][-1].hash, key.current.id),
            ]
            later = await record(session, "a")
            await session.commit()
            assert (await verify(session)).ok
            assert later.key_id == key.current.id

        # An unkeyed row rewritten and its chain re-hashed up to the seal: the seal's MAC
        # covers the old hash, so the seal no longer fits.
        async with create_sessionmaker(owner, audit_keys=key)() as session:
            stored = await session.scalars(
                select(AuditEntry).where(AuditEntry.chain == 5).order_by(AuditEntry.id)
            )
            forged = [AuditEntry(**row_of(entry)) for entry in stored]
            forged[0].detail = {"n": 0, "scope": "everything"}
            await _rehash_with_sha256(session, forged[:2])
            await session.execute(
                update(AuditEntry)
                .where(AuditEntry.id == forged[2].id)
                .values(prev_hash=forged[1].hash)
            )
            verdict = await verify(session)
            await session.rollback()
        assert (verdict.broken_at, verdict.reason) == (forged[2].id, "its content was changed")
    finally:
        await owner.dispose()
        await app.dispose()
