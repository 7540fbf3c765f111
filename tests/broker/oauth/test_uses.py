"""Introspections' uses counted in Redis and added to the grants in batches (oauth/uses.py): a
use shows in the grant's answer as soon as the introspection has answered, every use is added
to the row exactly once, and a batch left behind by a crash is added once, never twice."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from broker.grants.shown import one_shown
from broker.oauth.repository import use_batches
from broker.oauth.uses import _FINISH, BATCH, LOCK, LOCK_MS, PENDING
from core.models.grants import Grant, GrantUseBatch
from testing.clients import (
    ALL_SCOPES,
    GRANTED_AT_FILING,
    Sessions,
    bearer,
    granted_at_filing,
    new_client,
    token_from,
)
from testing.waiting import wait_until

pytestmark = pytest.mark.integration


async def _shown(http: httpx.AsyncClient, reader: str, grant_id: str) -> tuple[int, str | None]:
    answer = (await http.get(f"/v1/grants/{grant_id}", headers=bearer(reader))).json()
    return answer["use_count"], answer["last_used_at"]


async def _in_row(sessionmaker: Sessions, grant_id: str) -> int | None:
    async with sessionmaker() as session:
        return await session.scalar(select(Grant.use_count).where(Grant.id == grant_id))


async def _flushed(redis: Redis) -> bool:
    return not await redis.exists(PENDING, BATCH)


async def test_each_use_shows_at_once_and_reaches_the_row_exactly_once(
    client: httpx.AsyncClient, sessionmaker: Sessions, redis: Redis
) -> None:
    holder = await new_client(sessionmaker, "gz-rsj", ALL_SCOPES)
    provider = await new_client(sessionmaker, "gd-rst", "tokens:introspect")
    reader = await token_from(client, *holder, "grants:read")
    grant_id = await granted_at_filing(client, holder)
    token = await token_from(client, *holder, f"dataset:{GRANTED_AT_FILING}:read")
    for used in range(1, 6):
        answer = await client.post("/oauth/introspect", data={"token": token}, auth=provider)
        assert answer.json()["active"] is True
        count, last = await _shown(client, reader, grant_id)
        assert count == used
        assert last is not None
    await wait_until(lambda: _flushed(redis), limit_s=10, what="the uses flushed")
    assert await _in_row(sessionmaker, grant_id) == 5
    assert await _shown(client, reader, grant_id) == (5, last)


async def test_a_batch_left_behind_is_added_once(
    client: httpx.AsyncClient, sessionmaker: Sessions, redis: Redis
) -> None:
    holder = await new_client(sessionmaker, "gz-rsj", ALL_SCOPES)
    reader = await token_from(client, *holder, "grants:read")
    grant_id = await granted_at_filing(client, holder)
    used_at = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
    at_ms = int(used_at.timestamp() * 1000)
    left = {"id": "left-by-a-crash", f"n:{grant_id}": 3, f"t:{grant_id}": at_ms}

    await wait_until(lambda: _flushed(redis), limit_s=10, what="nothing else to flush")
    await redis.hset(BATCH, mapping=left)  # a flush that crashed before its commit
    assert (await _shown(client, reader, grant_id))[0] == 3
    await wait_until(lambda: _flushed(redis), limit_s=10, what="the batch flushed")
    assert await _in_row(sessionmaker, grant_id) == 3

    await redis.hset(BATCH, mapping=left)  # one that crashed after its commit
    count, last = await _shown(client, reader, grant_id)
    assert (count, last and datetime.fromisoformat(last)) == (3, used_at)
    await wait_until(lambda: _flushed(redis), limit_s=10, what="the batch dropped")
    assert await _in_row(sessionmaker, grant_id) == 3
    async with sessionmaker() as session:
        assert await session.get(GrantUseBatch, "left-by-a-crash") is not None


async def test_a_flush_that_commits_while_a_grant_is_shown_neither_hides_nor_doubles_its_uses(
    client: httpx.AsyncClient, sessionmaker: Sessions, redis: Redis
) -> None:
    holder = await new_client(sessionmaker, "gz-rsj", ALL_SCOPES)
    grant_id = await granted_at_filing(client, holder)
    used_at = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
    batch = {"id": "flushed-meanwhile", f"n:{grant_id}": 2}
    batch[f"t:{grant_id}"] = int(used_at.timestamp() * 1000)
    await wait_until(lambda: _flushed(redis), limit_s=10, what="nothing else to flush")

    async with sessionmaker() as session:
        row = await session.get(Grant, grant_id)  # read before the flush commits
        assert row is not None
        assert row.use_count == 0
        async with sessionmaker() as flusher:  # the flush commits; its batch not yet deleted
            await use_batches.add_use_batch(flusher, "flushed-meanwhile", {grant_id: (2, used_at)})
            await flusher.commit()
        await redis.hset(BATCH, mapping=batch)
        answer = await one_shown(session, redis, row)
    assert (answer.use_count, answer.last_used_at) == (2, used_at)
    await wait_until(lambda: _flushed(redis), limit_s=10, what="the batch dropped")
    assert await _in_row(sessionmaker, grant_id) == 2


async def test_a_flush_that_lost_its_lock_leaves_the_next_batch(redis: Redis) -> None:
    # A flush that stalled past LOCK_MS finishes after another process's flush has renamed the
    # next pending hash to BATCH: it deletes nothing but its own batch and releases no lock but
    # its own.
    await wait_until(lambda: _flushed(redis), limit_s=10, what="nothing else to flush")
    await redis.set(LOCK, "another-process", px=LOCK_MS)  # first: this app's flusher waits
    await redis.hset(BATCH, mapping={"id": "the-next-one", "n:g": 1, "t:g": 1})
    try:
        assert await _FINISH.run(redis, 2, BATCH, LOCK, "stalled", "flushed-before") == 0
        assert await redis.hget(BATCH, "id") == b"the-next-one"
        assert await redis.get(LOCK) == b"another-process"
    finally:
        await redis.delete(BATCH, LOCK)
