"""The token endpoint with real clients, verified by an independent JWT library (PyJWT)."""

from __future__ import annotations

import re
import time

import httpx
import jwt as pyjwt
import pytest
from fastapi import FastAPI
from joserfc import jwt as josejwt
from joserfc.jwk import RSAKey
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import utcnow
from core.models.oauth import OAuthClient
from testing.apps import BASE_URL
from testing.clients import TokenFactory, bearer, new_client

pytestmark = pytest.mark.integration


async def test_right_secret_gives_a_jwt_that_verifies_with_the_published_jwks(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    city_department: str,
) -> None:
    client_id, secret = await new_client(
        sessionmaker, city_department, "requests:submit requests:read"
    )

    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "requests:submit"},
        auth=(client_id, secret),
    )

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] > 0
    jwks = (await client.get("/.well-known/jwks.json")).json()
    header = pyjwt.get_unverified_header(body["access_token"])
    assert header["typ"] == "at+jwt"
    key = pyjwt.PyJWKSet.from_dict(jwks)[header["kid"]]
    claims = pyjwt.decode(
        body["access_token"], key=key.key, algorithms=["RS256"], audience=BASE_URL, issuer=BASE_URL
    )
    assert claims["client_id"] == client_id
    assert claims["sub"] == client_id
    assert claims["scope"] == "requests:submit"
    assert claims["org_id"] == city_department
    assert {"iat", "exp", "jti"} <= claims.keys()
    # as authlib made it: 16 letters or digits (revocation keys and audit subjects hold it)
    assert re.fullmatch(r"[A-Za-z0-9]{16}", claims["jti"])
    assert claims["exp"] - claims["iat"] == body["expires_in"]


async def test_client_secret_post_works_and_no_scope_means_all_the_client_has(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    city_department: str,
) -> None:
    client_id, secret = await new_client(sessionmaker, city_department, "requests:read grants:read")

    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )

    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "grants:read requests:read"


@pytest.mark.parametrize("use_basic", [True, False])
async def test_wrong_secret_is_401_invalid_client(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    use_basic: bool,
    city_department: str,
) -> None:
    client_id, _secret = await new_client(sessionmaker, city_department, "requests:read")
    form = {"grant_type": "client_credentials"}
    if use_basic:
        response = await client.post("/oauth/token", data=form, auth=(client_id, "cs_wrong"))
    else:
        form |= {"client_id": client_id, "client_secret": "cs_wrong"}
        response = await client.post("/oauth/token", data=form)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_unknown_and_revoked_clients_are_refused(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    city_department: str,
) -> None:
    client_id, secret = await new_client(sessionmaker, city_department, "requests:read")
    async with sessionmaker() as session:
        await session.execute(
            update(OAuthClient).where(OAuthClient.id == client_id).values(revoked_at=utcnow())
        )
        await session.commit()

    for auth in [(client_id, secret), ("cli_nobody", secret)]:
        response = await client.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=auth
        )
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"


async def test_a_scope_the_client_lacks_is_refused(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    city_department: str,
) -> None:
    client_id, secret = await new_client(sessionmaker, city_department, "requests:read")

    for scope in ["directory:admin", "requests:read reports:read", "dataset:gd-x:read", "nonsense"]:
        response = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": scope},
            auth=(client_id, secret),
        )
        assert response.status_code == 400, scope
        assert response.json()["error"] == "invalid_scope"


async def test_other_grant_types_are_unsupported(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    city_department: str,
) -> None:
    client_id, secret = await new_client(sessionmaker, city_department, "requests:read")

    response = await client.post(
        "/oauth/token", data={"grant_type": "password"}, auth=(client_id, secret)
    )

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


async def test_an_endpoint_without_its_scope_is_403_problem_json(
    client: httpx.AsyncClient,
    token_for: TokenFactory,
    city_department: str,
) -> None:
    token = await token_for(city_department, "requests:read")

    response = await client.post(
        "/v1/datasets",
        headers=bearer(token),
        json={"id": "x-1", "name": "x", "name_en": "x", "owner_id": city_department},
    )

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/insufficient-scope")
    assert problem["required_scope"] == "catalog:admin"
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


def _forge(claims: dict[str, object], key: RSAKey) -> str:
    return josejwt.encode({"alg": "RS256", "typ": "at+jwt", "kid": key.kid}, claims, key)


async def test_missing_expired_forged_or_foreign_tokens_are_401(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    now = int(time.time())
    good = {
        "iss": BASE_URL, "aud": BASE_URL, "sub": "cli_x", "client_id": "cli_x",
        "org_id": "gz-x", "jti": "j1", "iat": now, "exp": now + 60, "scope": "requests:read",
    }  # fmt: skip
    ours: RSAKey = app.state.keyring.signing_key
    stranger = RSAKey.generate_key(2048)
    stranger.ensure_kid()
    cases = {
        "none": None,
        "garbage": "not-a-jwt",
        "expired": _forge(good | {"iat": now - 7200, "exp": now - 3600}, ours),
        "other issuer": _forge(good | {"iss": "https://elsewhere"}, ours),
        "other audience": _forge(good | {"aud": "https://elsewhere"}, ours),
        "unknown key": _forge(good, stranger),
    }
    assert (await client.get("/v1/datasets", headers=bearer(_forge(good, ours)))).status_code == 200
    for name, token in cases.items():
        headers = bearer(token) if token else {}
        response = await client.get("/v1/datasets", headers=headers)
        assert response.status_code == 401, name
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_metadata_names_the_endpoints_and_keys(client: httpx.AsyncClient) -> None:
    metadata = (await client.get("/.well-known/oauth-authorization-server")).json()

    assert metadata["issuer"] == BASE_URL
    assert metadata["token_endpoint"] == f"{BASE_URL}/oauth/token"
    assert metadata["jwks_uri"] == f"{BASE_URL}/.well-known/jwks.json"
    assert set(metadata["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    assert "requests:submit" in metadata["scopes_supported"]
    assert "grants:use" in metadata["scopes_supported"]
    keys = (await client.get(metadata["jwks_uri"].removeprefix(BASE_URL))).json()["keys"]
    assert keys
    assert all("d" not in key for key in keys)  # never the private part
