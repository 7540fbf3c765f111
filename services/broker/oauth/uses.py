"""Introspections' uses of grants, counted in Redis and added to `grants.use_count` and
`last_used_at` in batches, so that an introspection whose standing this process keeps
(oauth/standing.py) makes no database round trip.

Counting: the introspection's one Redis script (oauth/lockout.py, kit/ratelimit.py; the script
itself: kit/limit_scripts.py) adds one to each of the token's grants in the hash `PENDING` only
if the call is admitted and the clients' and grants' versions are still those the process's
copies were read at; otherwise nothing is counted there and the call goes the way it went
before, its use counted by an UPDATE.

Flushing (`UseFlusher`, a task of every broker process; one at a time, by a lock in Redis, every
`FLUSH_INTERVAL_S`): the hash is renamed to `BATCH` (only when no batch is left), then added to
`grants` in one statement that also records the batch's id in `grant_use_batches`, and only
then deleted, if it is still that batch (a flush that stalled past its lock may find the next
one there). A crash (of the broker, of PostgreSQL) before the commit leaves the batch, which
the next flush adds; one between the commit and the delete leaves a batch whose id is
recorded, which the next flush deletes having added nothing. Redis runs with appendonly: a Redis
that restarts keeps the counts it had written to its log (fsync every second: a crash of the
machine may lose the last second's counts, never count one twice).

Reading (`use_counts`): every answer that shows a grant's use count adds what Redis holds that
is not yet in `grants` (the pending hash and the batch, less any whose id is recorded) to the
row's count read in the same statement as those ids, so a use is visible as soon as the
introspection answers, and a flush committing meanwhile neither hides nor doubles it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import redis.exceptions
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.kit.ratelimit import CountIf
from broker.kit.scripts import LuaScript
from broker.oauth.repository import use_batches
from core.supervisor import Supervisor

logger = logging.getLogger(__name__)

PENDING = "cdo:grant-uses"
BATCH = "cdo:grant-uses:batch"
LOCK = "cdo:grant-uses:flusher"
FLUSH_INTERVAL_S = 0.3
LOCK_MS = 30_000  # a flusher that died lets another take over after this

# KEYS: pending, batch, lock. ARGV: the lock's holder, its ms. → 1 if the caller holds the lock
# and a batch is there to flush (left by a flush that did not finish, or renamed now), else 0
# with the lock not held: an idle turn is this one round trip.
_TAKE = LuaScript("""
if not redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return 1 end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('RENAME', KEYS[1], KEYS[2]); return 1 end
redis.call('DEL', KEYS[3])
return 0
""")
# KEYS: batch, lock. ARGV: the lock's holder, the id of the batch it added. The batch deleted
# only while it is that batch and the lock is still the caller's: a flush that stalled past
# LOCK_MS may find another process's flush has since renamed the next pending hash to BATCH,
# which deleting would drop uncounted. Then the lock released. → 1 if the caller still held it.
_FINISH = LuaScript("""
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'id') == ARGV[2] then redis.call('DEL', KEYS[1]) end
redis.call('DEL', KEYS[2])
return 1
""")
# KEYS: lock. ARGV: its holder. Released only by its holder.
_RELEASE = LuaScript("""
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
""")


@dataclass(frozen=True)
class Uses:
    """Uses of a grant not yet in its row: how many, and the latest."""

    count: int
    last_used_at: datetime


def count_if(expected: list[bytes], grant_ids: set[str], now: datetime) -> CountIf:
    """The count the admission script makes if what it reads is `expected`."""
    return CountIf(
        PENDING, expected, sorted(grant_ids), secrets.token_hex(8), int(now.timestamp() * 1000)
    )


def _parse(batch: dict[bytes, bytes]) -> tuple[str | None, dict[str, Uses]]:
    uses: dict[str, Uses] = {}
    for field, value in batch.items():
        if field.startswith(b"n:"):
            grant_id = field[2:].decode()
            at_ms = int(batch.get(b"t:" + field[2:], b"0"))
            uses[grant_id] = Uses(int(value), datetime.fromtimestamp(at_ms / 1000, UTC))
    held = batch.get(b"id")
    return (held.decode() if held else None), uses


async def use_counts(
    session: AsyncSession, client: Redis | None, grant_ids: set[str]
) -> dict[str, Uses]:
    """The whole use count of each of `grant_ids` that Redis holds uses of: its row's count plus
    what Redis holds that is not yet in the rows. Redis read once (their fields of both hashes
    together), then the rows and the batches' ids in one statement (a batch whose id is recorded
    is in the rows already): a row read before a flush commits and an id read after it would
    hide the batch. Redis not answering, or holding nothing of them: nothing, and the rows as
    the caller read them stand."""
    if client is None or not grant_ids:
        return {}
    # Only the fields of these grants (and each hash's batch id), not the whole hashes: a page
    # shows 50 grants while the hashes hold every grant used since the last flush.
    fields = [b"id", *(f"{kind}:{g}".encode() for g in sorted(grant_ids) for kind in "nt")]
    try:
        async with client.pipeline(transaction=True) as pipe:
            pipe.hmget(PENDING, fields)
            pipe.hmget(BATCH, fields)
            hashes = await pipe.execute()
    except (redis.exceptions.RedisError, TimeoutError, OSError) as exc:
        logger.warning("uses counted in Redis not read: %r", exc)
        return {}
    held_values = [
        {f: v for f, v in zip(fields, values, strict=True) if v is not None} for values in hashes
    ]
    parsed = [_parse(one) for one in held_values if one]
    used = {grant_id for _, uses in parsed for grant_id in uses}  # only `grant_ids`' fields read
    if not used:
        return {}
    ids = {held for held, _ in parsed if held}
    rows = await use_batches.uses_in_rows(session, used, ids)
    total: dict[str, Uses] = {}
    for held, uses in parsed:
        if held in rows.recorded:
            continue
        for grant_id, one in uses.items():
            before = total.get(grant_id)
            total[grant_id] = (
                one
                if before is None
                else Uses(before.count + one.count, max(before.last_used_at, one.last_used_at))
            )
    for grant_id, (count, last_used_at) in rows.counts.items():
        more = total.get(grant_id)
        if more is None:
            if last_used_at is not None:
                total[grant_id] = Uses(count, last_used_at)  # all of it in the row by now
            continue
        latest = more.last_used_at if last_used_at is None else max(more.last_used_at, last_used_at)
        total[grant_id] = Uses(count + more.count, latest)
    return total


class UseFlusher:
    """Adds the uses counted in Redis to `grants`, a batch at a time."""

    def __init__(
        self, redis: Redis, sessionmaker: async_sessionmaker[AsyncSession], *, interval_s: float
    ) -> None:
        self._redis = redis
        self._sessionmaker = sessionmaker
        self._interval_s = interval_s
        self._holder = secrets.token_hex(8)

    async def run(self, stop: asyncio.Event) -> None:
        """Flush until `stop`, under the supervisor: a fault (Redis, PostgreSQL) delays the
        counts, never drops them (what Redis holds is flushed by a later turn)."""

        async def turn() -> float:
            await self.flush()
            return self._interval_s

        await Supervisor("grant-uses").run(turn, stop)

    async def flush(self) -> int:
        """One batch, if this process holds the lock and there is one: the grants it counted."""
        redis = self._redis
        if not int(await _TAKE.run(redis, 3, PENDING, BATCH, LOCK, self._holder, LOCK_MS)):
            return 0
        finished = False
        try:
            await redis.hsetnx(BATCH, "id", secrets.token_hex(8))  # the counts' own, if any
            held, uses = _parse(await redis.hgetall(BATCH))  # type: ignore[arg-type]
            if held is not None and uses:
                async with self._sessionmaker() as session:
                    await use_batches.add_use_batch(
                        session,
                        held,
                        {g: (u.count, u.last_used_at) for g, u in uses.items()},
                    )
                    await session.commit()
            await _FINISH.run(redis, 2, BATCH, LOCK, self._holder, held or "")
            finished = True
            return len(uses)
        finally:
            if not finished:  # the batch stays for a later turn
                await _RELEASE.run(redis, 1, LOCK, self._holder)
