"""RFC 7662 introspection: is this token good right now, and what does it grant?

A token is inactive once it, its client or its grant is revoked, paused or expired; a signature
check alone (offline, with the JWKS) cannot see those, which is why providers introspect.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from broker.grants.models import Grant
from broker.kit.problems import Unauthorized
from broker.oauth import revocation
from broker.oauth.keys import KeyRing
from broker.oauth.models import OAuthClient
from broker.oauth.principal import decode_access_token

INACTIVE: dict[str, Any] = {"active": False}


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
    client = await session.get(OAuthClient, claims["client_id"])
    if client is None or client.revoked_at is not None:
        return INACTIVE
    for detail in claims.get("authorization_details") or []:
        grant = await session.get(Grant, detail.get("grant_id"))
        if grant is None or grant.status != "active" or not grant.starts_at <= now < grant.ends_at:
            return INACTIVE
        await session.execute(  # in SQL, so concurrent introspections all count
            update(Grant)
            .where(Grant.id == grant.id)
            .values(use_count=Grant.use_count + 1, last_used_at=now)
        )
    answer: dict[str, Any] = {
        key: claims[key]
        for key in ("scope", "client_id", "sub", "exp", "iat", "iss", "aud", "jti", "org_id")
        if key in claims
    }
    if "authorization_details" in claims:
        answer["authorization_details"] = claims["authorization_details"]
    return {"active": True, "token_type": "Bearer", **answer}
