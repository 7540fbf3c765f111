"""Revoked token ids, in Redis so every broker replica knows at once; each is kept until the
token would have expired anyway."""

from __future__ import annotations

from redis.asyncio import Redis


def _key(jti: str) -> str:
    return f"cdo:revoked-token:{jti}"


async def revoke(redis: Redis, jti: str, *, seconds_left: int) -> None:
    if seconds_left > 0:
        await redis.set(_key(jti), b"1", ex=seconds_left)


async def is_revoked(redis: Redis | None, jti: str) -> bool:
    # No Redis configured (a quick local run): nothing can have been revoked.
    return redis is not None and bool(await redis.exists(_key(jti)))
