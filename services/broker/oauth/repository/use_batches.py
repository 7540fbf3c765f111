"""The SQL of the batches of introspections' uses counted in Redis (oauth/uses.py): a batch
added to its grants once, and the rows' counts read with the batches they hold."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple, cast

from sqlalchemy import literal, null, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from core.models.grants import Grant, GrantUseBatch

# One statement: the batch's id recorded (a no-op if it was already), the uses added only if it
# was recorded now, and ids older than a day pruned (no batch is left that long).
_ADD_USE_BATCH = text(
    """
    WITH recorded AS (
        INSERT INTO grant_use_batches (id) VALUES (:id) ON CONFLICT DO NOTHING RETURNING id
    ), pruned AS (
        DELETE FROM grant_use_batches WHERE flushed_at < now() - interval '1 day'
    )
    UPDATE grants SET use_count = grants.use_count + u.n,
        last_used_at = GREATEST(grants.last_used_at, u.t)
    FROM unnest(CAST(:ids AS text[]), CAST(:ns AS integer[]), CAST(:ts AS timestamptz[]))
        AS u(id, n, t)
    WHERE grants.id = u.id AND EXISTS (SELECT FROM recorded)
    """
)


async def add_use_batch(
    session: AsyncSession, batch_id: str, uses: dict[str, tuple[int, datetime]]
) -> None:
    """Add a batch of uses counted in Redis to the grants (oauth/uses.py), once per batch id."""
    ids = sorted(uses)
    connection = await session.connection()
    await connection.execute(
        _ADD_USE_BATCH,
        {
            "id": batch_id,
            "ids": ids,
            "ns": [uses[g][0] for g in ids],
            "ts": [uses[g][1] for g in ids],
        },
    )


class UsesInRows(NamedTuple):
    """What the grants' rows hold of their uses, and which batches are in them."""

    counts: dict[str, tuple[int, datetime | None]]
    recorded: set[str]


async def uses_in_rows(
    session: AsyncSession, grant_ids: set[str], batch_ids: set[str]
) -> UsesInRows:
    """The grants' use counts and which of `batch_ids` have been added to them, in ONE
    statement: one snapshot, so that a batch whose flush commits between two reads is neither
    missed (the rows read before it, its id after) nor counted twice."""
    rows = select(
        Grant.id, Grant.use_count, Grant.last_used_at, literal(False).label("is_batch")
    ).where(Grant.id.in_(sorted(grant_ids)))
    batches = select(GrantUseBatch.id, literal(0), null(), literal(True).label("is_batch")).where(
        GrantUseBatch.id.in_(sorted(batch_ids))
    )
    counts: dict[str, tuple[int, datetime | None]] = {}
    recorded: set[str] = set()
    found = cast(
        Sequence[tuple[str, int, datetime | None, bool]],
        (await session.execute(union_all(rows, batches))).all(),
    )
    for id_, count, last_used_at, is_batch in found:
        if is_batch:
            recorded.add(id_)
        else:
            counts[id_] = (count, last_used_at)
    return UsesInRows(counts, recorded)
