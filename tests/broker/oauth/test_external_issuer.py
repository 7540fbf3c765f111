"""Access tokens from an existing identity provider: accepted when configured (its JWKS fetched
over HTTP from a real server on loopback), refused otherwise."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import RSAKey

from broker.settings import Settings
from tests.conftest import bearer, broker_with

pytestmark = pytest.mark.integration
IDP = "https://idp.gd.example"


@pytest.fixture
async def jwks_server() -> AsyncIterator[tuple[str, RSAKey]]:
    key = RSAKey.generate_key(2048)
    key.ensure_kid()
    body = json.dumps({"keys": [key.as_dict(private=False)]}).encode()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/jwks", key
    finally:
        server.close()
        await server.wait_closed()


def _idp_token(key: RSAKey, **claims: object) -> str:
    now = int(time.time())
    payload = {"iss": IDP, "sub": "u1", "exp": now + 300, "iat": now, "scope": "requests:read"}
    return jwt.encode({"alg": "RS256", "kid": key.kid}, payload | claims, key)


async def test_external_tokens_are_accepted_only_when_configured(
    app: FastAPI, settings: Settings, jwks_server: tuple[str, RSAKey]
) -> None:
    jwks_url, key = jwks_server
    good = _idp_token(key, gd_org="gz-rsj")

    async with broker_with(
        app, settings, external_issuer=IDP, external_jwks_url=jwks_url, external_org_claim="gd_org"
    ) as trusting:
        accepted = await trusting.get("/v1/requests", headers=bearer(good))
        no_org = await trusting.get("/v1/requests", headers=bearer(_idp_token(key)))
        expired = await trusting.get(
            "/v1/requests",
            headers=bearer(_idp_token(key, gd_org="gz-rsj", exp=int(time.time()) - 60)),
        )
        stranger = RSAKey.generate_key(2048)
        stranger.ensure_kid()
        forged = await trusting.get(
            "/v1/requests", headers=bearer(_idp_token(stranger, gd_org="gz-rsj"))
        )
        wrong_scope = await trusting.post("/v1/requests", headers=bearer(good), json={})
    async with broker_with(app, settings) as not_trusting:
        refused = await not_trusting.get("/v1/requests", headers=bearer(good))

    assert accepted.status_code == 200, accepted.text
    assert no_org.status_code == 401
    assert expired.status_code == 401
    assert forged.status_code == 401
    assert wrong_scope.status_code == 403
    assert refused.status_code == 401


async def test_a_caller_identified_by_the_provider_sees_its_own_requests(
    app: FastAPI,
    settings: Settings,
    jwks_server: tuple[str, RSAKey],
) -> None:
    jwks_url, key = jwks_server
    token = _idp_token(key, gd_org="zs-ybj", scope="requests:read")
    async with broker_with(
        app, settings, external_issuer=IDP, external_jwks_url=jwks_url, external_org_claim="gd_org"
    ) as trusting:
        listing = await trusting.get(
            "/v1/requests", headers=bearer(token), params={"role": "requester"}
        )
    assert listing.status_code == 200
    assert all(r["requester_id"] == "zs-ybj" for r in listing.json()["items"])
