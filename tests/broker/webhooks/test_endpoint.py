"""PUT/GET /v1/webhooks/endpoint and the secret rotation, against the real database."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.webhooks import repository
from core.clock import utcnow
from core.models.webhooks import WebhookEndpoint
from core.webhooks.secrets import cipher_from_settings, signing_secrets
from testing.apps import broker_with
from testing.clients import TokenFactory, bearer
from testing.settings import Settings

pytestmark = pytest.mark.integration

Sessions = async_sessionmaker[AsyncSession]
PUBLIC_URL = "https://93.184.215.14/hooks/cdo"  # a public address literal: no DNS in the test
SECRET = re.compile(r"^whsec_(?P<key>[A-Za-z0-9+/]{43}=)$")


async def stored_endpoint(sessionmaker: Sessions, org_id: str) -> WebhookEndpoint:
    async with sessionmaker() as session:
        endpoint = await repository.endpoint_of(session, org_id)
    assert endpoint is not None
    return endpoint


@pytest.fixture(scope="module")
async def private_client(settings: Settings, app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An app that admits loopback and http URLs (WEBHOOK_ALLOW_PRIVATE_URLS=true)."""
    async with broker_with(app, settings, webhook_allow_private_urls=True) as http:
        yield http


async def register(client: httpx.AsyncClient, headers: dict[str, str], url: str) -> httpx.Response:
    # in English: the tests read the English reason (a person reads it in Chinese by default)
    english = {**headers, "Accept-Language": "en"}
    return await client.put("/v1/webhooks/endpoint", headers=english, json={"url": url})


async def test_first_registration_shows_the_secret_once_and_stores_it_encrypted(
    client: httpx.AsyncClient, headers: dict[str, str], org: str, sessionmaker: Sessions,
    settings: Settings,
) -> None:  # fmt: skip
    created = await register(client, headers, PUBLIC_URL)

    assert created.status_code == 201, created.text
    body = created.json()
    assert body["url"] == PUBLIC_URL
    assert body["organisation_id"] == org
    assert body["rotation_ends_at"] is None
    assert body["disabled_at"] is None
    match = SECRET.match(body["secret"])
    assert match, body["secret"]
    assert len(base64.b64decode(match["key"])) == 32

    stored = await stored_endpoint(sessionmaker, org)
    assert body["secret"] not in stored.secret_ciphertext
    assert cipher_from_settings(settings).decrypt(stored.secret_ciphertext) == body["secret"]

    shown = await client.get("/v1/webhooks/endpoint", headers=headers)
    assert shown.status_code == 200
    assert "secret" not in shown.json()
    assert "whsec_" not in shown.text
    assert shown.json()["id"] == body["id"]


async def test_a_later_put_changes_the_url_and_keeps_the_secret(
    client: httpx.AsyncClient, headers: dict[str, str], org: str, sessionmaker: Sessions,
    settings: Settings,
) -> None:  # fmt: skip
    secret = (await register(client, headers, PUBLIC_URL)).json()["secret"]

    changed = await register(client, headers, "https://93.184.215.15/v2/hooks")

    assert changed.status_code == 200, changed.text
    assert "secret" not in changed.json()
    assert changed.json()["url"] == "https://93.184.215.15/v2/hooks"
    stored = await stored_endpoint(sessionmaker, org)
    assert cipher_from_settings(settings).decrypt(stored.secret_ciphertext) == secret


async def test_racing_first_registrations_make_one_endpoint_and_one_secret(
    client: httpx.AsyncClient, headers: dict[str, str], org: str, sessionmaker: Sessions,
    settings: Settings,
) -> None:  # fmt: skip
    answers = await asyncio.gather(*(register(client, headers, PUBLIC_URL) for _ in range(4)))

    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
    secret = next(a.json()["secret"] for a in answers if a.status_code == 201)
    stored = await stored_endpoint(sessionmaker, org)
    assert cipher_from_settings(settings).decrypt(stored.secret_ciphertext) == secret


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://169.254.169.254/latest/meta-data/", "is a cloud metadata address"),
        ("http://169.254.169.254/", "must use https"),  # the first reason found is given
        ("https://[fd00:ec2::254]/", "is a cloud metadata address"),
        ("https://10.1.2.3/hooks", "is a private-network address"),
        ("https://127.0.0.1:8443/hooks", "is a loopback address"),
        ("http://93.184.215.14/hooks", "must use https"),
        ("https://user:pw@93.184.215.14/", "user name or password"),
        ("not a url", "must use https"),
    ],
)
async def test_unsafe_urls_are_refused_naming_the_field(
    client: httpx.AsyncClient, headers: dict[str, str], url: str, reason: str
) -> None:
    refused = await register(client, headers, url)

    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"].endswith("/unsafe-webhook-url")
    assert problem["field"] == "url"
    assert problem["errors"][0]["field"] == "url"
    assert reason in problem["detail"]
    assert (await client.get("/v1/webhooks/endpoint", headers=headers)).status_code == 404


async def test_a_person_reads_the_refusal_in_chinese(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    refused = await client.put(
        "/v1/webhooks/endpoint", headers=headers, json={"url": "https://10.1.2.3/hooks"}
    )
    assert refused.status_code == 422
    assert refused.json()["detail"] == "url: 10.1.2.3 是内网地址"
    assert refused.json()["errors"][0]["message"] == "10.1.2.3 is a private-network address"


async def test_private_urls_are_admitted_only_when_configured(
    private_client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    loopback = await register(private_client, headers, "http://127.0.0.1:9/hooks")
    assert loopback.status_code == 201, loopback.text

    private = await register(private_client, headers, "http://10.1.2.3/hooks")
    assert private.status_code == 200, private.text

    metadata = await register(private_client, headers, "http://169.254.169.254/")
    assert metadata.status_code == 422
    assert "cloud metadata" in metadata.json()["detail"]


async def test_put_enables_a_disabled_endpoint_again(
    client: httpx.AsyncClient, headers: dict[str, str], org: str, sessionmaker: Sessions
) -> None:
    await register(client, headers, PUBLIC_URL)
    async with sessionmaker() as session:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.organisation_id == org)
            .values(disabled_at=utcnow(), disabled_reason="the receiver answered 410 Gone")
        )
        await session.commit()
    disabled = (await client.get("/v1/webhooks/endpoint", headers=headers)).json()
    assert disabled["disabled_at"] is not None
    assert disabled["disabled_reason"] == "the receiver answered 410 Gone"

    again = await register(client, headers, PUBLIC_URL)

    assert again.status_code == 200
    assert again.json()["disabled_at"] is None
    assert again.json()["disabled_reason"] is None


async def test_without_an_endpoint_get_and_rotate_are_404(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    for response in (
        await client.get("/v1/webhooks/endpoint", headers=headers),
        await client.post("/v1/webhooks/endpoint/rotate-secret", headers=headers),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


async def test_rotation_signs_with_both_secrets_during_the_overlap_only(
    client: httpx.AsyncClient, headers: dict[str, str], org: str, sessionmaker: Sessions,
    settings: Settings,
) -> None:  # fmt: skip
    old = (await register(client, headers, PUBLIC_URL)).json()["secret"]

    rotated = await client.post(
        "/v1/webhooks/endpoint/rotate-secret", headers=headers, json={"overlap_seconds": 3600}
    )

    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert SECRET.match(new)
    assert new != old
    assert rotated.json()["rotation_ends_at"] is not None
    shown = (await client.get("/v1/webhooks/endpoint", headers=headers)).json()
    assert shown["rotation_ends_at"] == rotated.json()["rotation_ends_at"]
    assert "secret" not in shown

    endpoint = await stored_endpoint(sessionmaker, org)
    cipher = cipher_from_settings(settings)
    now = utcnow()
    assert endpoint.previous_valid_until is not None
    ends = endpoint.previous_valid_until
    assert timedelta(seconds=3590) < ends - now <= timedelta(seconds=3600)
    assert signing_secrets(endpoint, now, cipher) == (new, old)
    assert signing_secrets(endpoint, ends - timedelta(seconds=1), cipher) == (new, old)
    assert signing_secrets(endpoint, ends, cipher) == (new,)
    assert signing_secrets(endpoint, ends + timedelta(days=1), cipher) == (new,)


async def test_a_rotation_without_a_body_uses_the_configured_overlap(
    client: httpx.AsyncClient, headers: dict[str, str], org: str, sessionmaker: Sessions,
    settings: Settings,
) -> None:  # fmt: skip
    await register(client, headers, PUBLIC_URL)

    rotated = await client.post("/v1/webhooks/endpoint/rotate-secret", headers=headers)

    assert rotated.status_code == 200, rotated.text
    endpoint = await stored_endpoint(sessionmaker, org)
    assert endpoint.previous_valid_until is not None
    overlap = endpoint.previous_valid_until - endpoint.updated_at
    assert overlap == timedelta(seconds=settings.webhook_rotation_overlap_seconds)


async def test_rotating_again_or_without_overlap_leaves_at_most_two_secrets(
    client: httpx.AsyncClient, headers: dict[str, str], org: str, sessionmaker: Sessions,
    settings: Settings,
) -> None:  # fmt: skip
    await register(client, headers, PUBLIC_URL)
    rotate = "/v1/webhooks/endpoint/rotate-secret"
    second = (await client.post(rotate, headers=headers, json={"overlap_seconds": 600})).json()
    third = (await client.post(rotate, headers=headers, json={"overlap_seconds": 600})).json()
    cipher = cipher_from_settings(settings)

    endpoint = await stored_endpoint(sessionmaker, org)
    assert signing_secrets(endpoint, utcnow(), cipher) == (third["secret"], second["secret"])

    abrupt = await client.post(rotate, headers=headers, json={"overlap_seconds": 0})
    assert abrupt.json()["rotation_ends_at"] is None
    endpoint = await stored_endpoint(sessionmaker, org)
    assert signing_secrets(endpoint, utcnow(), cipher) == (abrupt.json()["secret"],)


@pytest.mark.parametrize("body", [{"overlap_seconds": 7 * 86400 + 1}, {"overlap_seconds": -1}])
async def test_the_overlap_is_bounded(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> None:
    await register(client, headers, PUBLIC_URL)
    refused = await client.post("/v1/webhooks/endpoint/rotate-secret", headers=headers, json=body)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "overlap_seconds"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/v1/webhooks/endpoint"),
        ("GET", "/v1/webhooks/endpoint"),
        ("POST", "/v1/webhooks/endpoint/rotate-secret"),
        ("GET", "/v1/webhooks/deliveries"),
        ("GET", "/v1/webhooks/deliveries/whk_x"),
        ("POST", "/v1/webhooks/deliveries/whk_x/replay"),
        ("POST", "/v1/webhooks/deliveries/replay"),
    ],
)
async def test_every_call_needs_webhooks_manage(
    client: httpx.AsyncClient, token_for: TokenFactory, org: str, method: str, path: str
) -> None:
    headers = bearer(await token_for(org, "requests:read"))
    body = {"url": PUBLIC_URL} if method == "PUT" else None
    refused = await client.request(method, path, headers=headers, json=body)
    assert refused.status_code == 403, refused.text
    assert refused.json()["required_scope"] == "webhooks:manage"
    assert (await client.request(method, path, json=body)).status_code == 401
