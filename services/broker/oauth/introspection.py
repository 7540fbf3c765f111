"""RFC 7662 introspection: is this token good right now, and what does it grant?

A token is inactive once it, its client or its grant is revoked, paused or expired; a signature
check alone (offline, with the JWKS) cannot see those, which is why providers introspect.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from redis.asyncio import Redis
from sqlalchemy import Table, bindparam, false, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from broker.kit.problems import Unauthorized
from broker.oauth import revocation
from broker.oauth.keys import KeyRing
from broker.oauth.principal import decode_access_token
from core.models.grants import Grant
from core.models.oauth import OAuthClient

INACTIVE: dict[str, Any] = {"active": False}

_grants = cast(Table, Grant.__table__)
# In SQL, so concurrent introspections all count.
_COUNT_USE = (
    update(_grants)
    .where(_grants.c.id == bindparam("counted_grant"))
    .values(use_count=_grants.c.use_count + 1, last_used_at=bindparam("used_at"))
)


async def introspect(
    token: str,
    *,
    session: AsyncSession,
    redis: Redis | None,
    keyring: KeyRing,
    issuer: str,
    now: datetime,
) -> dict[str, Any]:
    try:
        claims = decode_access_token(token, keyring, issuer)
    except Unauthorized:
        return INACTIVE
    if await revocation.is_revoked(redis, str(claims["jti"])):
        return INACTIVE
    grant_ids = {str(d.get("grant_id")) for d in claims.get("authorization_details") or []}
    if not await _standing(session, str(claims["client_id"]), grant_ids, now):
        return INACTIVE
    if grant_ids:
        # On the connection: a Core statement built once, none of the ORM's UPDATE logic
        connection = await session.connection()
        for grant_id in sorted(grant_ids):
            await connection.execute(_COUNT_USE, {"counted_grant": grant_id, "used_at": now})
    answer: dict[str, Any] = {
        key: claims[key]
        for key in ("scope", "client_id", "sub", "exp", "iat", "iss", "aud", "jti", "org_id")
        if key in claims
    }
    if "authorization_details" in claims:
        answer["authorization_details"] = claims["authorization_details"]
    return {"active": True, "token_type": "Bearer", **answer}


async def _standing(
    session: AsyncSession, client_id: str, grant_ids: Iterable[str], now: datetime
) -> bool:
    """Whether the token's client is not revoked and each of its grants is active now: read
    afresh on every call (one query), so a revocation or pause takes effect at once."""
    wanted = set(grant_ids)
    rows = (
        await session.execute(
            select(OAuthClient.revoked_at, Grant.id, Grant.status, Grant.starts_at, Grant.ends_at)
            .select_from(OAuthClient)
            .outerjoin(Grant, Grant.id.in_(wanted) if wanted else false())
            .where(OAuthClient.id == client_id)
        )
    ).all()
    if not rows or rows[0].revoked_at is not None:
        return False
    found = {row.id: row for row in rows if row.id is not None}
    return all(
        (grant := found.get(grant_id)) is not None
        and grant.status == "active"
        and grant.starts_at <= now < grant.ends_at
        for grant_id in wanted
    )
