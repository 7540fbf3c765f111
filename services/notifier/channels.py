"""One attempt at a message to a notification channel: composed in Chinese for its recipient
(texts.py), laid out and sent as the channel's kind says (robots.py, mail.py). A robot's URL is
vetted at each attempt as a webhook's is, and its credentials never reach the delivery log."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import httpx

from core.models.notifications import NotificationChannel
from core.webhooks.credentials import CREDENTIAL_PARAM, credentials_of, with_credential
from core.webhooks.secrets import SecretCipher
from notifier.delivery import Attempt, post_once
from notifier.mail import build_mail, send_mail
from notifier.robots import (
    DINGTALK,
    WECOM,
    dingtalk_payload,
    dingtalk_signed_url,
    reader,
    wecom_payload,
)
from notifier.settings import NotifierSettings
from notifier.texts import compose
from notifier.wording import Message

JSON = {"content-type": "application/json; charset=utf-8"}


@dataclass(frozen=True)
class ChannelTarget:
    id: str
    kind: str  # wecom | dingtalk | email
    url: str | None  # a robot's URL, without its credential
    credentials: dict[str, str]
    recipients: tuple[str, ...]

    @property
    def label(self) -> str:
        """Where an attempt went, as the delivery log shows it: never a credential."""
        return self.url or "mailto:" + ",".join(self.recipients)


def channel_target(channel: NotificationChannel, cipher: SecretCipher) -> ChannelTarget:
    return ChannelTarget(
        id=channel.id,
        kind=channel.kind,
        url=channel.url,
        credentials=credentials_of(channel, cipher),
        recipients=tuple(channel.recipients or ()),
    )


def message_for(
    payload: dict[str, Any], recipient: str, names: dict[str, str], console_base: str
) -> Message:
    """The message about a delivery's payload (`{"type", "timestamp", "data"}`)."""
    return compose(
        str(payload["type"]),
        payload["data"],
        recipient=recipient,
        names=names,
        console_base=console_base,
    )


async def send_to_channel(
    client: httpx.AsyncClient,
    settings: NotifierSettings,
    target: ChannelTarget,
    message: Message,
    *,
    delivery_id: str,
    now: datetime,
) -> Attempt:
    if target.kind == "email":
        mail = build_mail(
            message,
            sender=settings.smtp_from,
            recipients=target.recipients,
            message_id=delivery_id,
            now=now,
        )
        return await send_mail(settings, mail)
    assert target.url is not None
    url = with_credential(
        target.url, CREDENTIAL_PARAM[target.kind], target.credentials[CREDENTIAL_PARAM[target.kind]]
    )
    if target.kind == "dingtalk":
        url = dingtalk_signed_url(url, target.credentials["secret"], int(time.time() * 1000))
        payload, codes = dingtalk_payload(message), DINGTALK
    else:
        payload, codes = wecom_payload(message), WECOM
    attempt = await post_once(
        client,
        url,
        _json(payload),
        JSON,
        timeout_s=settings.webhook_timeout_seconds,
        allow_private=settings.webhook_allow_private_urls,
        read=reader(codes),
    )
    return _scrubbed(attempt, target.credentials.values())


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _scrubbed(attempt: Attempt, secrets: Any) -> Attempt:
    """The attempt with no credential in its error (an HTTP client's words may quote a URL)."""
    error = attempt.error
    for secret in secrets:
        if error and secret:
            error = error.replace(secret, "…")
    return replace(attempt, error=error)
