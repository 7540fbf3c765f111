"""A relying party of the broker's OpenID Connect provider, as authlib's own client plays it:
the authorization request a signed-in browser answers with a code, and a person's tokens."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from authlib.common.security import generate_token
from fastapi import FastAPI

from broker.oauth.clients import create_client
from testing.apps import BASE_URL
from testing.clients import Sessions

with warnings.catch_warnings():
    # authlib warns that it prefers httpx2 now; the broker and these tests use httpx
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

REDIRECT = "http://localhost/signed-in"
SCOPE = "openid profile requests:read approvals:decide"


@asynccontextmanager
async def relying_party_of(
    app: FastAPI, sessionmaker: Sessions, organisation_id: str = "gd-dsb", scope: str = SCOPE
) -> AsyncIterator[AsyncOAuth2Client]:
    """authlib's client for a system of `organisation_id` registered to sign people in, over the
    app itself."""
    async with sessionmaker() as session:
        client, secret = await create_client(
            session, organisation_id=organisation_id, scope=scope, redirect_uris=[REDIRECT]
        )
        await session.commit()
    async with AsyncOAuth2Client(
        client_id=client.id, client_secret=secret, redirect_uri=REDIRECT, scope=scope,
        code_challenge_method="S256", transport=httpx.ASGITransport(app=app), base_url=BASE_URL,
    ) as oauth:  # fmt: skip
        yield oauth


async def authorization_answer(
    oauth: AsyncOAuth2Client, browser: httpx.AsyncClient, verifier: str | None, **extra: Any
) -> httpx.Response:
    """The broker's answer to `browser` (signed in or not) asking for a code."""
    url, _state = oauth.create_authorization_url(
        f"{BASE_URL}/oauth/authorize", code_verifier=verifier, nonce="n-0S6", **extra
    )
    return await browser.get(url)


async def person_tokens(oauth: AsyncOAuth2Client, browser: httpx.AsyncClient) -> dict[str, Any]:
    """The tokens of the person signed in to `browser`, through the code flow with PKCE."""
    verifier = generate_token(48)
    answer = await authorization_answer(oauth, browser, verifier)
    token: dict[str, Any] = await oauth.fetch_token(
        f"{BASE_URL}/oauth/token", authorization_response=answer.headers["location"],
        code_verifier=verifier,
    )  # fmt: skip
    return token
