"""The version counters that per-process copies are checked against (the directory's, the
catalog's): which tables bump one, and what it reads around a change that commits or not."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

Sessions = async_sessionmaker[AsyncSession]


async def triggered_tables(sessionmaker: Sessions, function: str) -> set[str]:
    """The tables of this schema with a trigger that runs `function`."""
    async with sessionmaker() as session:
        return set(
            await session.scalars(
                text(
                    "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                    " WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
                    " AND t.tgfoid = CAST(:function AS regproc)"
                ),
                {"function": function},
            )
        )


async def _read(session: AsyncSession, version: InstrumentedAttribute[int]) -> int:
    value = await session.scalar(select(version))
    assert isinstance(value, int)
    return value


async def around_a_change(
    sessionmaker: Sessions, version: InstrumentedAttribute[int], touch: Any
) -> dict[str, int]:
    """The counter before `touch` (a statement), inside its transaction, meanwhile in another
    session, after that transaction rolled back, and after `touch` committed."""
    async with sessionmaker() as session:
        before = await _read(session, version)
    async with sessionmaker() as session:
        await session.execute(touch)
        inside = await _read(session, version)
        async with sessionmaker() as elsewhere:
            meanwhile = await _read(elsewhere, version)
        await session.rollback()
    async with sessionmaker() as session:
        after_rollback = await _read(session, version)
        await session.execute(touch)
        await session.commit()
    async with sessionmaker() as session:
        after_commit = await _read(session, version)
    return {
        "before": before,
        "inside": inside,
        "meanwhile": meanwhile,
        "after_rollback": after_rollback,
        "after_commit": after_commit,
    }


def bumped_at_commit(seen: dict[str, int]) -> bool:
    """Whether `around_a_change` read a counter bumped in the change's transaction: a new number
    inside it, unchanged for another session until it commits and after it rolled back, and at
    the commit a number after the one the rolled-back change had (never that one again: a copy
    read inside that transaction cannot pass for what committed later)."""
    before, inside = seen["before"], seen["inside"]
    return (
        inside > before
        and seen["meanwhile"] == before
        and seen["after_rollback"] == before
        and seen["after_commit"] > inside
    )
