"""`cdo-broker audit anchor` prints the chain heads to keep elsewhere; `audit verify --anchor`
then finds the newest rows of a chain removed even when the head row was rewritten to match."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.audit import service as audit
from broker.audit.actor import SYSTEM
from core.models.audit import AuditChainHead, AuditEntry
from testing.audit import row_of, subject_in
from testing.processes import cdo_broker

pytestmark = pytest.mark.integration
Sessions = async_sessionmaker[AsyncSession]
CHAIN = 13


async def _append(sessionmaker: Sessions, count: int) -> list[AuditEntry]:
    written = []
    async with sessionmaker() as session:
        for n in range(count):
            written.append(
                await audit.record(
                    session, "test.anchor", actor=SYSTEM, subject=subject_in(CHAIN), n=n
                )
            )
            await session.commit()
    return written


def _anchor(migrated: str, path: Path) -> dict[str, Any]:
    taken = cdo_broker("audit", "anchor", database_url=migrated)
    assert taken.returncode == 0, taken.stderr
    path.write_text(taken.stdout)
    return dict(json.loads(taken.stdout))


async def test_the_anchor_names_each_chain_head_with_its_row_and_the_count(
    sessionmaker: Sessions, migrated: str, tmp_path: Path
) -> None:
    [newest] = await _append(sessionmaker, 1)
    anchor = _anchor(migrated, tmp_path / "anchor.json")
    async with sessionmaker() as session:
        heads = {h.chain: h.hash for h in await session.scalars(select(AuditChainHead))}
        rows = await session.scalar(select(func.count()).select_from(AuditEntry))
    assert set(anchor) == {"taken_at", "rows", "heads"}
    assert anchor["heads"][str(CHAIN)] == {"hash": newest.hash, "row": newest.id}
    assert {int(c): h["hash"] for c, h in anchor["heads"].items()} == {
        c: h for c, h in heads.items() if h != audit.GENESIS
    }
    assert 1 <= anchor["rows"] <= (rows or 0)
    held = cdo_broker(
        "audit", "verify", "--anchor", str(tmp_path / "anchor.json"), database_url=migrated
    )
    assert held.returncode == 0, held.stderr
    assert "1 anchor(s) held" in held.stdout


async def test_newest_rows_cut_back_past_an_anchor_are_found_only_with_it(
    sessionmaker: Sessions, owner_sessionmaker: Sessions, migrated: str, tmp_path: Path
) -> None:
    kept, anchored = await _append(sessionmaker, 2)
    path = tmp_path / "anchor.json"
    _anchor(migrated, path)
    await _append(sessionmaker, 2)  # rows after the anchor: it still holds
    assert (
        cdo_broker("audit", "verify", "--anchor", str(path), database_url=migrated).returncode == 0
    )

    async with owner_sessionmaker() as session:
        cut = [
            row_of(e)
            for e in await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.chain == CHAIN, AuditEntry.id >= anchored.id)
                .order_by(AuditEntry.id)
            )
        ]
        stored = await session.get_one(AuditChainHead, CHAIN)
        head = {"prev_hash": stored.prev_hash, "hash": stored.hash}
    try:
        async with owner_sessionmaker() as session:  # the rows and the head, made to agree
            await session.execute(
                delete(AuditEntry).where(AuditEntry.id.in_([r["id"] for r in cut]))
            )
            await session.execute(
                update(AuditChainHead)
                .where(AuditChainHead.chain == CHAIN)
                .values(prev_hash=kept.prev_hash, hash=kept.hash)
            )
            await session.commit()
        unaided = cdo_broker("audit", "verify", database_url=migrated)
        assert unaided.returncode == 0, "without an anchor the cut cannot show"
        anchored_check = cdo_broker("audit", "verify", "--anchor", str(path), database_url=migrated)
        assert anchored_check.returncode == 1
        assert (
            f"BROKEN at row {anchored.id}: chain {CHAIN} no longer holds its anchored head"
            in anchored_check.stderr
        )
    finally:
        async with owner_sessionmaker() as session:
            await session.execute(insert(AuditEntry), cut)
            await session.execute(
                update(AuditChainHead).where(AuditChainHead.chain == CHAIN).values(**head)
            )
            await session.commit()
    assert (
        cdo_broker("audit", "verify", "--anchor", str(path), database_url=migrated).returncode == 0
    )


def test_an_unreadable_anchor_is_a_usage_error(migrated: str, tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("not json")
    result = cdo_broker(
        "audit", "verify", "--anchor", str(tmp_path / "bad.json"), database_url=migrated
    )
    assert result.returncode == 2
    assert "cannot read the anchor" in result.stderr
