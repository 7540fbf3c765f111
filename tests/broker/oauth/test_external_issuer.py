"""Access tokens from an existing identity provider: accepted when configured (its JWKS fetched
over HTTP from a real server on loopback), refused otherwise, refused when meant for another
audience, and forged tokens cost the provider no JWKS fetch each."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import RSAKey

from testing.apps import BASE_URL, broker_with
from testing.clients import bearer
from testing.processes import free_port
from testing.settings import Settings

pytestmark = pytest.mark.integration
IDP = "https://idp.gd.example"


@dataclass
class Jwks:
    """A JWKS server on loopback: the keys it serves now, and how often it was asked."""

    url: str
    keys: list[RSAKey]
    fetches: int = 0


def new_key() -> RSAKey:
    key = RSAKey.generate_key(2048)
    key.ensure_kid()
    return key


@pytest.fixture
async def jwks() -> AsyncIterator[Jwks]:
    served = Jwks("", [new_key()])

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        served.fetches += 1
        body = json.dumps({"keys": [k.as_dict(private=False) for k in served.keys]}).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    served.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/jwks"
    try:
        yield served
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def jwks_server(jwks: Jwks) -> tuple[str, RSAKey]:
    return jwks.url, jwks.keys[0]


def _idp_token(key: RSAKey, **claims: object) -> str:
    """A provider's token for this broker (its `aud` is the broker's issuer URL)."""
    now = int(time.time())
    payload = {
        "iss": IDP,
        "aud": BASE_URL,
        "sub": "u1",
        "exp": now + 300,
        "iat": now,
        "scope": "requests:read",
    }
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


def trusting(app: FastAPI, settings: Settings, jwks: Jwks, **overrides: Any) -> Any:
    return broker_with(
        app,
        settings,
        external_issuer=IDP,
        external_jwks_url=jwks.url,
        external_org_claim="gd_org",
        **overrides,
    )


async def test_a_token_for_another_audience_is_refused(
    app: FastAPI, settings: Settings, jwks: Jwks
) -> None:
    key = jwks.keys[0]

    async def status(http: Any, **claims: object) -> int:
        token = _idp_token(key, gd_org="gz-rsj", **claims)
        return int((await http.get("/v1/requests", headers=bearer(token))).status_code)

    async with trusting(app, settings, jwks) as http:  # default: the broker's own issuer URL
        assert await status(http) == 200
        assert await status(http, aud=[BASE_URL, "https://other.example"]) == 200
        assert await status(http, aud="https://other.example") == 401
        assert await status(http, aud=None) == 401
    async with trusting(app, settings, jwks, external_audience="api://cdo-broker") as http:
        assert await status(http, aud="api://cdo-broker") == 200
        assert await status(http) == 401


async def test_forged_tokens_do_not_make_a_jwks_fetch_each(
    app: FastAPI, settings: Settings, jwks: Jwks
) -> None:
    good = _idp_token(jwks.keys[0], gd_org="gz-rsj")
    async with trusting(app, settings, jwks) as http:
        assert (await http.get("/v1/requests", headers=bearer(good))).status_code == 200
        assert jwks.fetches == 1
        for _ in range(20):  # each with a kid of its own, none the provider has
            forged = _idp_token(new_key(), gd_org="gd-dsb")
            refused = await http.get("/v1/requests", headers=bearer(forged))
            assert refused.status_code == 401
        stolen_kid = jwt.encode(
            {"alg": "RS256", "kid": jwks.keys[0].kid},
            {"iss": IDP, "aud": BASE_URL, "gd_org": "gd-dsb", "exp": int(time.time()) + 60},
            new_key(),
        )
        assert (await http.get("/v1/requests", headers=bearer(stolen_kid))).status_code == 401
        assert (await http.get("/v1/requests", headers=bearer(good))).status_code == 200
    assert jwks.fetches == 1  # 22 more tokens, no more fetches


async def test_a_key_the_provider_rotated_in_is_fetched_once_allowed(
    app: FastAPI, settings: Settings, jwks: Jwks
) -> None:
    old = jwks.keys[0]
    async with trusting(app, settings, jwks, external_jwks_min_refetch_seconds=0) as http:
        assert (
            await http.get("/v1/requests", headers=bearer(_idp_token(old, gd_org="gz-rsj")))
        ).status_code == 200
        rotated = new_key()
        jwks.keys = [rotated, old]
        fresh = await http.get("/v1/requests", headers=bearer(_idp_token(rotated, gd_org="gz-rsj")))
    assert fresh.status_code == 200, fresh.text
    assert jwks.fetches == 2


async def test_an_unreachable_provider_is_503_not_500(app: FastAPI, settings: Settings) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/jwks"
    token = _idp_token(new_key(), gd_org="gz-rsj")
    async with broker_with(
        app, settings, external_issuer=IDP, external_jwks_url=nowhere, external_org_claim="gd_org"
    ) as http:
        answer = await http.get("/v1/requests", headers=bearer(token))
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
