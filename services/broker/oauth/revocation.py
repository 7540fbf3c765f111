"""Revoked token ids and revoked clients, in Redis so every broker replica knows at once. Each
entry is kept until the tokens it stops would have expired anyway (a revoked client gets no new
tokens: the token endpoint reads the database, or a copy kept exact by oauth/client_cache.py,
and this key of the client too)."""

from __future__ import annotations

from redis.asyncio import Redis


def _key(jti: str) -> str:
    return f"cdo:revoked-token:{jti}"


def client_key(client_id: str) -> str:
    return f"cdo:revoked-client:{client_id}"


async def revoke(redis: Redis, jti: str, *, seconds_left: int) -> None:
    if seconds_left > 0:
        await redis.set(_key(jti), b"1", ex=seconds_left)


async def revoke_client(redis: Redis | None, client_id: str, *, seconds_left: int) -> None:
    """Every token of the client, for as long as any of them can live."""
    if redis is not None and seconds_left > 0:
        await redis.set(client_key(client_id), b"1", ex=seconds_left)


def keys(jti: str, client_id: str | None = None) -> list[str]:
    """The keys whose existence says the token, or its client, is revoked."""
    return [_key(jti)] if client_id is None else [_key(jti), client_key(client_id)]


async def is_revoked(redis: Redis | None, jti: str, client_id: str | None = None) -> bool:
    """Whether the token, or its client, is revoked: one EXISTS over both keys, one round trip.
    No Redis configured (a quick local run): nothing can have been revoked."""
    if redis is None:
        return False
    return bool(await redis.exists(*keys(jti, client_id)))
