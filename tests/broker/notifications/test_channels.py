"""PUT/GET/DELETE /v1/notifications/channels/{kind} against the real database: per kind what
is required, credentials encrypted and never answered, URLs vetted, every write audited, and
only the caller's own organisation reached."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.notifications import repository
from core.models.audit import AuditEntry
from core.models.notifications import NotificationChannel
from core.webhooks.credentials import credentials_of
from core.webhooks.secrets import cipher_from_settings
from testing.apps import broker_with
from testing.clients import TokenFactory
from testing.organisations import manager, new_organisation
from testing.settings import Settings

pytestmark = pytest.mark.integration

Sessions = async_sessionmaker[AsyncSession]
KEY = "693a91f6-7aoc-4bc4-97a0-0ec2sifa5aaa"
TOKEN = "ff6cd723bdb4455fe18e2f9c0ba30dbeff007f5"
SECRET = "SEC2a0e4f3d8b1c9e7a6f5d4c3b2a1908f7e6d5c4b3a29180"
WECOM = f"https://93.184.215.14/cgi-bin/webhook/send?key={KEY}"  # a public literal: no DNS
DINGTALK = f"https://93.184.215.14/robot/send?access_token={TOKEN}"


@pytest.fixture(scope="module")
async def mail_client(settings: Settings, app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A broker whose operator set up SMTP (nothing is sent by these tests)."""
    async with broker_with(app, settings, smtp_host="127.0.0.1") as http:
        yield http


async def stored(sessionmaker: Sessions, org: str, kind: str) -> NotificationChannel:
    async with sessionmaker() as session:
        channel = await repository.channel_of(session, org, kind)
    assert channel is not None
    return channel


async def audited(sessionmaker: Sessions, subject: str) -> list[AuditEntry]:
    async with sessionmaker() as session:
        query = select(AuditEntry).where(AuditEntry.subject == subject).order_by(AuditEntry.id)
        return list((await session.scalars(query)).all())


async def test_a_wecom_robot_is_registered_without_its_key_ever_answered(
    client: httpx.AsyncClient,
    sessionmaker: Sessions,
    settings: Settings,
    org: str,
    headers: dict[str, str],
) -> None:
    created = await client.put(
        "/v1/notifications/channels/wecom", headers=headers, json={"webhook_url": WECOM}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["kind"] == "wecom"
    assert body["organisation_id"] == org
    assert body["webhook_url"] == "https://93.184.215.14/cgi-bin/webhook/send"
    assert body["credentials"] == {"key": "…5aaa"}
    assert body["events"] == [
        "approval.requested",
        "approval.reminder",
        "approval.escalated",
        "request.decided",
        "problem.reported",
        "problem.answered",
        "appeal.requested",
        "appeal.escalated",
        "appeal.decided",
    ]
    assert KEY not in created.text

    channel = await stored(sessionmaker, org, "wecom")
    assert channel.secret_ciphertext is not None
    assert KEY not in channel.secret_ciphertext  # encrypted at rest
    assert credentials_of(channel, cipher_from_settings(settings)) == {"key": KEY}

    changed = await client.put(
        "/v1/notifications/channels/wecom",
        headers=headers,
        json={"webhook_url": WECOM, "events": ["approval.requested", "grant.revoked"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["id"] == body["id"]
    assert changed.json()["events"] == ["approval.requested", "grant.revoked"]

    read = await client.get("/v1/notifications/channels/wecom", headers=headers)
    assert read.status_code == 200
    assert read.json() == changed.json()
    listed = await client.get("/v1/notifications/channels", headers=headers)
    assert [c["kind"] for c in listed.json()["items"]] == ["wecom"]

    trail = await audited(sessionmaker, body["id"])
    assert [e.action for e in trail] == [
        "notification.channel_registered",
        "notification.channel_changed",
    ]
    assert all(e.actor == org for e in trail)
    assert trail[0].detail["credentials"] == ["key"]
    assert KEY not in str([e.detail for e in trail])


async def test_a_dingtalk_robot_needs_its_signing_secret(
    client: httpx.AsyncClient, sessionmaker: Sessions, org: str, headers: dict[str, str]
) -> None:
    url = "/v1/notifications/channels/dingtalk"
    missing = await client.put(url, headers=headers, json={"webhook_url": DINGTALK})
    assert missing.status_code == 422
    assert missing.json()["field"] == "secret"
    wrong = await client.put(url, headers=headers, json={"webhook_url": DINGTALK, "secret": "x"})
    assert wrong.status_code == 422
    assert wrong.json()["type"].endswith("/invalid-notification-channel")
    no_token = await client.put(
        url,
        headers=headers,
        json={"webhook_url": "https://93.184.215.14/robot/send", "secret": SECRET},
    )
    assert no_token.status_code == 422
    assert no_token.json()["field"] == "webhook_url"

    created = await client.put(
        url, headers=headers, json={"webhook_url": DINGTALK, "secret": SECRET}
    )
    assert created.status_code == 201, created.text
    assert created.json()["credentials"] == {"access_token": "…07f5", "secret": "…9180"}
    assert TOKEN not in created.text
    assert SECRET not in created.text
    assert (await stored(sessionmaker, org, "dingtalk")).url == "https://93.184.215.14/robot/send"


@pytest.mark.parametrize(
    ("kind", "body", "field"),
    [
        ("wecom", {"webhook_url": "http://127.0.0.1:9/send?key=k"}, "webhook_url"),
        ("wecom", {"webhook_url": "https://10.0.0.8/send?key=k"}, "webhook_url"),
        ("wecom", {"webhook_url": WECOM, "secret": SECRET}, "secret"),
        ("wecom", {"recipients": ["a@gz.gov.cn"]}, "recipients"),
        ("dingtalk", {"webhook_url": DINGTALK, "secret": SECRET, "events": []}, "events"),
        ("wecom", {"webhook_url": WECOM, "events": ["request.submitted"]}, "events.0"),
    ],
)
async def test_refused_settings_name_their_field_and_change_nothing(
    client: httpx.AsyncClient,
    sessionmaker: Sessions,
    org: str,
    headers: dict[str, str],
    kind: str,
    body: dict[str, Any],
    field: str,
) -> None:
    refused = await client.put(f"/v1/notifications/channels/{kind}", headers=headers, json=body)
    assert refused.status_code == 422, refused.text
    assert field in {e["field"] for e in refused.json()["errors"]}
    async with sessionmaker() as session:
        assert await repository.channels_of(session, org) == []


async def test_loopback_robots_only_where_private_urls_are_allowed(
    settings: Settings, app: FastAPI, headers: dict[str, str]
) -> None:
    async with broker_with(app, settings, webhook_allow_private_urls=True) as private:
        allowed = await private.put(
            "/v1/notifications/channels/wecom",
            headers=headers,
            json={"webhook_url": "http://127.0.0.1:9/cgi-bin/webhook/send?key=k"},
        )
    assert allowed.status_code == 201, allowed.text


async def test_email_needs_smtp_and_real_addresses(
    client: httpx.AsyncClient, mail_client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    url = "/v1/notifications/channels/email"
    body = {"recipients": ["cdo-office@gz.gov.cn", "CDO-Office@gz.gov.cn", "deputy@gz.gov.cn"]}
    unconfigured = await client.put(url, headers=headers, json=body)
    assert unconfigured.status_code == 409
    assert unconfigured.json()["type"].endswith("/smtp-not-configured")

    for bad in ["someone", "a@b", "x@gz.gov.cn\r\nBcc: y@evil.example", "名字 <a@gz.gov.cn>"]:
        refused = await mail_client.put(url, headers=headers, json={"recipients": [bad]})
        assert refused.status_code == 422, bad
        assert refused.json()["field"] == "recipients.0"

    created = await mail_client.put(url, headers=headers, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["recipients"] == ["cdo-office@gz.gov.cn", "deputy@gz.gov.cn"]
    assert created.json()["webhook_url"] is None
    assert created.json()["credentials"] == {}


async def test_a_channel_is_only_its_own_organisations(
    client: httpx.AsyncClient,
    sessionmaker: Sessions,
    token_for: TokenFactory,
    headers: dict[str, str],
) -> None:
    created = await client.put(
        "/v1/notifications/channels/wecom", headers=headers, json={"webhook_url": WECOM}
    )
    assert created.status_code == 201
    stranger = await manager(token_for, await new_organisation(sessionmaker))
    assert (
        await client.get("/v1/notifications/channels/wecom", headers=stranger)
    ).status_code == 404
    assert (await client.get("/v1/notifications/channels", headers=stranger)).json() == {
        "items": []
    }
    gone = await client.delete("/v1/notifications/channels/wecom", headers=stranger)
    assert gone.status_code == 404
    assert (
        await client.get("/v1/notifications/channels/wecom", headers=headers)
    ).status_code == 200


async def test_removing_a_channel_is_audited(
    client: httpx.AsyncClient, sessionmaker: Sessions, org: str, headers: dict[str, str]
) -> None:
    created = await client.put(
        "/v1/notifications/channels/wecom", headers=headers, json={"webhook_url": WECOM}
    )
    removed = await client.delete("/v1/notifications/channels/wecom", headers=headers)
    assert removed.status_code == 204
    assert (
        await client.get("/v1/notifications/channels/wecom", headers=headers)
    ).status_code == 404
    again = await client.delete("/v1/notifications/channels/wecom", headers=headers)
    assert again.status_code == 404
    trail = await audited(sessionmaker, created.json()["id"])
    assert [e.action for e in trail][-1] == "notification.channel_removed"
    assert trail[-1].actor == org


async def test_an_unknown_kind_is_a_validation_error(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    answer = await client.put(
        "/v1/notifications/channels/feishu", headers=headers, json={"webhook_url": WECOM}
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "kind"
