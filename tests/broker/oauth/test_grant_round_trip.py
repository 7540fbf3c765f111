"""The grant round trip with independent clients: authlib's OAuth2 client fetches the grant token,
PyJWT verifies it against the JWKS, introspection agrees; after pause, revoke or expiry the token
is inactive and a new one is refused."""

from __future__ import annotations

import warnings
from datetime import timedelta
from typing import Any

import httpx
import jwt as pyjwt
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.requests import sla
from core.clock import utcnow
from core.models.grants import Grant
from testing.apps import BASE_URL, LINKS
from testing.clients import ALL_SCOPES, bearer, new_client
from testing.workloads import request_body

with warnings.catch_warnings():
    # authlib 1.9 prefers the `httpx2` package and warns when it falls back to httpx.
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

pytestmark = pytest.mark.integration
Sessions = async_sessionmaker[AsyncSession]
DATASET = "gd-zrzyt-mining-rights"  # unconditional, owned by gd-zrzyt
SCOPE = f"dataset:{DATASET}:read"


def _oauth_client(app: FastAPI, credentials: tuple[str, str], scope: str) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=credentials[0],
        client_secret=credentials[1],
        scope=scope,
        token_endpoint_auth_method="client_secret_basic",
        transport=httpx.ASGITransport(app=app),
        base_url=BASE_URL,
    )


async def _fetch(app: FastAPI, credentials: tuple[str, str], scope: str = SCOPE) -> dict[str, Any]:
    async with _oauth_client(app, credentials, scope) as oauth:
        token = await oauth.fetch_token(f"{BASE_URL}/oauth/token", grant_type="client_credentials")
    return dict(token)


async def _grant(app: FastAPI, client: httpx.AsyncClient, credentials: tuple[str, str]) -> str:
    token = (await _fetch(app, credentials, "requests:submit"))["access_token"]
    filed = await client.post(
        "/v1/requests", headers=bearer(token), json=request_body(DATASET, ["licence_number"])
    )
    assert filed.json()["status"] == "approved", filed.text
    return str(filed.json()["grant_id"])


async def _active(
    client: httpx.AsyncClient, token: str, provider: tuple[str, str]
) -> dict[str, Any]:
    answer = await client.post("/oauth/introspect", data={"token": token}, auth=provider)
    return dict(answer.json())


async def test_the_round_trip_and_every_way_a_grant_ends(
    app: FastAPI, client: httpx.AsyncClient, sessionmaker: Sessions
) -> None:
    holder = await new_client(sessionmaker, "jm-gaj", ALL_SCOPES)
    provider = await new_client(sessionmaker, "gd-zrzyt", "tokens:introspect")
    provider_api = bearer(
        (
            await _fetch(
                app, await new_client(sessionmaker, "gd-zrzyt", "grants:revoke"), "grants:revoke"
            )
        )["access_token"]
    )
    jwks = pyjwt.PyJWKSet.from_dict((await client.get("/.well-known/jwks.json")).json())

    grant_id = await _grant(app, client, holder)
    token = (await _fetch(app, holder))["access_token"]
    claims = pyjwt.decode(
        token,
        key=jwks[pyjwt.get_unverified_header(token)["kid"]].key,
        algorithms=["RS256"],
        audience=BASE_URL,
        issuer=BASE_URL,
    )
    introspected = await _active(client, token, provider)
    assert introspected["active"] is True
    assert introspected["authorization_details"] == claims["authorization_details"]
    assert claims["authorization_details"][0]["grant_id"] == grant_id

    async def ended() -> None:
        assert (await _active(client, token, provider)) == {"active": False}
        with pytest.raises(OAuthError, match="invalid_scope"):
            await _fetch(app, holder)

    await client.post(f"/v1/grants/{grant_id}/pause", headers=provider_api)
    await ended()
    await client.post(f"/v1/grants/{grant_id}/resume", headers=provider_api)
    assert (await _active(client, token, provider))["active"] is True
    await client.post(
        f"/v1/grants/{grant_id}/revoke", headers=provider_api, json={"reason": "核查发现超范围使用"}
    )
    await ended()

    grant_id = await _grant(app, client, holder)  # a second grant, left to expire
    token = (await _fetch(app, holder))["access_token"]
    async with sessionmaker() as session:
        past = utcnow() - timedelta(seconds=1)
        await session.execute(
            update(Grant)
            .where(Grant.id == grant_id)
            .values(starts_at=past - timedelta(days=1), ends_at=past)
        )
        await session.commit()
    await sla.run_once(sessionmaker, policy=app.state.routing_policy, links=LINKS)
    await ended()
