"""The Idempotency-Key fast path in Redis; the database's unique constraint is the backstop.

Redis only remembers which request a key produced. Anything it says is checked against the
database, and when Redis is away filing goes on through the database alone.
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
TTL_SECONDS = 24 * 3600


def _key(requester_id: str, idempotency_key: str) -> str:
    return f"cdo:idem:{requester_id}:{idempotency_key}"


async def remembered(redis: Redis | None, requester_id: str, idempotency_key: str) -> str | None:
    if redis is None:
        return None
    try:
        value = await redis.get(_key(requester_id, idempotency_key))
    except (RedisError, OSError) as exc:
        logger.warning("idempotency cache unavailable, using the database: %r", exc)
        return None
    return value.decode() if isinstance(value, bytes) else value


async def remember(
    redis: Redis | None, requester_id: str, idempotency_key: str, request_id: str
) -> None:
    if redis is None:
        return
    try:
        await redis.set(_key(requester_id, idempotency_key), request_id, ex=TTL_SECONDS)
    except (RedisError, OSError) as exc:
        logger.warning("idempotency cache unavailable: %r", exc)
