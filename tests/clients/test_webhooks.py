"""`verify_webhook` and `parse_webhook`: against the reference `standardwebhooks` package, and
against what the real notifier sends through Kafka to a receiver on loopback while the
endpoint's secret is being rotated (both secrets sign)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from standardwebhooks import Webhook

from cdo_broker_client import WebhookVerificationError, parse_webhook, verify_webhook
from cdo_broker_client.events import GrantWebhook, RequestDecidedWebhook
from core.webhooks.signing import generate_secret, headers_for
from testing.apps import broker_with, running_notifier
from testing.client_package import LICENCES
from testing.clients import TokenFactory, bearer
from testing.receivers import running_receiver
from testing.settings import Settings
from testing.workloads import request_body

BODY = json.dumps({"type": "grant.revoked", "timestamp": "2026-12-04T10:00:00Z", "data": {}})


def test_a_signature_the_reference_package_makes_verifies() -> None:
    secret = generate_secret()
    stamp = int(time.time())
    signature = Webhook(secret).sign("msg_1", _datetime(stamp), BODY)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(stamp),
        "webhook-signature": signature,
    }
    assert verify_webhook(secret, headers, BODY) == json.loads(BODY)
    assert verify_webhook([generate_secret(), secret], headers, BODY.encode())


def _datetime(stamp: int) -> datetime:
    return datetime.fromtimestamp(stamp, UTC)


def test_rotation_signatures_replays_and_tampering() -> None:
    old, new, stranger = generate_secret(), generate_secret(), generate_secret()
    stamp = int(time.time())
    headers = headers_for([old, new], "msg_2", stamp, BODY.encode())  # the notifier's own
    assert headers["webhook-signature"].count("v1,") == 2
    for held in (old, new, [new, old], [stranger, new]):
        assert verify_webhook(held, headers, BODY)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(stranger, headers, BODY)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(new, headers, BODY.replace("revoked", "issued"))
    with pytest.raises(WebhookVerificationError):  # an old message sent again
        verify_webhook(new, headers, BODY, now=stamp + 301)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(new, {k: v for k, v in headers.items() if k != "webhook-id"}, BODY)
    # upper-case header names, as some frameworks hand them over
    assert verify_webhook(new, {k.upper(): v for k, v in headers.items()}, BODY)
    forged = headers | {"webhook-signature": "v1," + base64.b64encode(b"x" * 32).decode()}
    with pytest.raises(WebhookVerificationError):
        verify_webhook(new, forged, BODY)


@pytest.fixture
async def loopback(settings: Settings, app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with broker_with(app, settings, webhook_allow_private_urls=True) as http:
        yield http


@pytest.fixture
async def notifier(settings: Settings) -> AsyncIterator[None]:
    async with running_notifier(settings):
        yield


@pytest.mark.integration
async def test_the_notifiers_webhooks_verify_during_a_rotation(
    loopback: httpx.AsyncClient, notifier: None, token_for: TokenFactory
) -> None:
    org = "jm-scjgj"  # 江门市市场监管局: no other test registers its endpoint
    headers = bearer(
        await token_for(org, "webhooks:manage requests:submit requests:read grants:read")
    )
    async with running_receiver() as receiver:
        registered = await loopback.put(
            "/v1/webhooks/endpoint", headers=headers, json={"url": receiver.url}
        )
        assert registered.status_code in (200, 201), registered.text
        old = registered.json()["secret"]
        rotated = await loopback.post(
            "/v1/webhooks/endpoint/rotate-secret", headers=headers, json={}
        )
        assert rotated.status_code == 200, rotated.text
        new = rotated.json()["secret"]

        body = request_body(LICENCES, ["licence_number"])
        filed = await loopback.post("/v1/requests", headers=headers, json=body)
        assert filed.status_code == 201, filed.text
        await receiver.wait_for(2, limit_s=30)  # request.decided and grant.issued

    kinds = set()
    for delivery in receiver.requests:
        assert delivery.headers["webhook-signature"].count("v1,") == 2
        for held in (old, new, [new]):
            event = parse_webhook(verify_webhook(held, delivery.headers, delivery.body))
            kinds.add(event.type)
            if isinstance(event, GrantWebhook):
                assert event.data.grant_id == filed.json()["grant_id"]
            if isinstance(event, RequestDecidedWebhook):
                assert event.data.request_id == filed.json()["id"]
        with pytest.raises(WebhookVerificationError):
            verify_webhook(generate_secret(), delivery.headers, delivery.body)
    assert kinds == {"request.decided", "grant.issued"}
