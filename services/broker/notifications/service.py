"""An organisation's notification channels: registered, read and removed by the organisation
itself (scope webhooks:manage). Services only flush.

Credentials are encrypted with the webhook secrets' key and never answered; a URL is checked as
a webhook URL is (https on the public internet unless WEBHOOK_ALLOW_PRIVATE_URLS), and again at
every delivery. Every write is audited.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.audit.actor import Actor
from broker.directory.repository import lock_organisation
from broker.kit.lookups import found
from broker.notifications import repository
from broker.notifications.credentials import InvalidSetting, hint, settings_of
from broker.notifications.exceptions import ChannelNotFound, InvalidChannel, SmtpNotConfigured
from broker.notifications.schemas import ChannelIn, ChannelKind, ChannelOut
from broker.webhooks.service import checked_url, put_receiver
from core.ids import new_id
from core.models.notifications import NotificationChannel
from core.webhooks.credentials import credentials_of
from core.webhooks.secrets import SecretCipher


def to_out(channel: NotificationChannel, cipher: SecretCipher) -> ChannelOut:
    return ChannelOut(
        id=channel.id,
        organisation_id=channel.organisation_id,
        kind=channel.kind,  # type: ignore[arg-type]  # a ChannelKind in the database
        webhook_url=channel.url,
        credentials={name: hint(value) for name, value in credentials_of(channel, cipher).items()},
        recipients=channel.recipients,
        events=channel.events,  # type: ignore[arg-type]  # NotificationTypes, as written
        disabled_at=channel.disabled_at,
        disabled_reason=channel.disabled_reason,
        created_at=channel.created_at,
        updated_at=channel.updated_at,
    )


async def list_channels(
    session: AsyncSession, organisation_id: str
) -> Sequence[NotificationChannel]:
    return await repository.channels_of(session, organisation_id)


async def get_channel(
    session: AsyncSession, organisation_id: str, kind: ChannelKind, *, for_update: bool = False
) -> NotificationChannel:
    channel = await repository.channel_of(session, organisation_id, kind, for_update=for_update)
    return found(channel, ChannelNotFound, kind)


async def put_channel(
    session: AsyncSession,
    *,
    actor: Actor,
    kind: ChannelKind,
    body: ChannelIn,
    cipher: SecretCipher,
    allow_private: bool,
    smtp_configured: bool,
    now: datetime,
) -> tuple[NotificationChannel, bool]:
    """Registers the organisation's channel of `kind`, or replaces its settings, and enables
    it again. Returns the channel and whether it was created."""
    organisation_id = actor.organisation
    try:
        settings = settings_of(kind, body)
    except InvalidSetting as refused:
        raise InvalidChannel(refused.field, refused.reason, refused.reason_zh) from None
    if kind == "email" and not smtp_configured:
        raise SmtpNotConfigured()
    if settings.url is not None:
        await checked_url(settings.url, allow_private=allow_private, field="webhook_url")
    await lock_organisation(session, organisation_id)  # one creation per organisation at a time
    channel = await repository.channel_of(session, organisation_id, kind, for_update=True)
    created = channel is None
    if channel is None:
        channel = NotificationChannel(
            id=new_id("nch"), organisation_id=organisation_id, kind=kind, created_at=now
        )
        session.add(channel)
    channel.url = settings.url
    channel.secret_ciphertext = (
        cipher.encrypt(json.dumps(settings.credentials)) if settings.credentials else None
    )
    channel.recipients = settings.recipients
    channel.events = settings.events
    await put_receiver(
        session,
        channel,
        "notification.channel_registered" if created else "notification.channel_changed",
        actor=actor,
        now=now,
        kind=kind,
        url=channel.url,
        recipients=channel.recipients,
        events=channel.events,
        credentials=sorted(settings.credentials),  # which were set, never their values
    )
    return channel, created


async def remove_channel(
    session: AsyncSession, *, actor: Actor, kind: ChannelKind, now: datetime
) -> None:
    """Messages still waiting for the channel become undeliverable when their turn comes."""
    channel = await get_channel(session, actor.organisation, kind, for_update=True)
    await repository.remove(session, channel.id)
    await audit.record(
        session, "notification.channel_removed", actor=actor, subject=channel.id,
        now=now, kind=kind,
    )  # fmt: skip
