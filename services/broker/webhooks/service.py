"""Webhook endpoints, their signing secrets, and the deliveries made to them. Services only flush.

An organisation has at most one endpoint. Its secret is generated here, shown once and stored
encrypted; a rotation keeps the old secret signing alongside the new one for an overlap, so the
receiver can switch keys whenever it likes within it.

A replay puts a delivery back to `pending`, due now, with its attempt counter at 0 so the retry
schedule starts over; the rows of earlier attempts remain as its history.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit import service as audit
from broker.audit.actor import Actor
from broker.directory.repository import lock_organisation
from broker.kit.attributes import attributes
from broker.kit.lookups import found
from broker.kit.pagination import InvalidCursor
from broker.webhooks import repository
from broker.webhooks.exceptions import (
    AlreadyDelivered,
    DeliveryNotFound,
    EndpointNotFound,
    UnsafeUrl,
)
from broker.webhooks.schemas import (
    AttemptOut,
    DeliveryOut,
    EndpointOut,
    EndpointWithSecret,
    ReplayableStatus,
)
from core.ids import new_id
from core.models.notifications import NotificationChannel
from core.models.webhooks import WebhookDelivery, WebhookEndpoint
from core.webhooks.secrets import SecretCipher, rotation_ends_at
from core.webhooks.signing import generate_secret
from core.webhooks.urls import UnsafeWebhookUrl, check_webhook_url

REPLAYED_BY_DEFAULT: tuple[ReplayableStatus, ...] = ("dead", "undeliverable")
# Every field of an endpoint's answer but the rotation's end is the endpoint's column of its name.
_ANSWERED = EndpointOut.model_fields.keys() - {"rotation_ends_at"}


# --- endpoints and secrets ---------------------------------------------------------------


def to_out(endpoint: WebhookEndpoint, now: datetime) -> EndpointOut:
    columns = attributes(endpoint, _ANSWERED)
    return EndpointOut(**columns, rotation_ends_at=rotation_ends_at(endpoint, now))


def with_secret(endpoint: WebhookEndpoint, secret: str, now: datetime) -> EndpointWithSecret:
    return EndpointWithSecret(**to_out(endpoint, now).model_dump(), secret=secret)


async def get_endpoint(
    session: AsyncSession, organisation_id: str, *, for_update: bool = False
) -> WebhookEndpoint:
    endpoint = await repository.endpoint_of(session, organisation_id, for_update=for_update)
    return found(endpoint, EndpointNotFound)


async def checked_url(url: str, *, allow_private: bool, field: str = "url") -> str:
    """The URL as it will be called, or UnsafeUrl naming `field` (a channel's URL is checked
    as an endpoint's is)."""
    try:
        checked = await check_webhook_url(url, allow_private=allow_private)
    except UnsafeWebhookUrl as refused:
        raise UnsafeUrl(refused.reason, refused.reason_zh, field=field) from None
    return checked.url


async def put_receiver(
    session: AsyncSession,
    receiver: WebhookEndpoint | NotificationChannel,
    action: str,
    *,
    actor: Actor,
    now: datetime,
    **detail: Any,
) -> None:
    """How a PUT of an endpoint or a channel ends, once its settings are set: enabled again,
    whatever disabled it (a 410, a vendor's answer that the robot is gone), written, and audited
    as `action` (registered or changed) with `detail`."""
    receiver.disabled_at = None
    receiver.disabled_reason = None
    receiver.updated_at = now
    await session.flush()
    await audit.record(session, action, actor=actor, subject=receiver.id, now=now, **detail)


async def register_endpoint(
    session: AsyncSession,
    *,
    actor: Actor,
    url: str,
    cipher: SecretCipher,
    allow_private: bool,
    now: datetime,
) -> tuple[WebhookEndpoint, str | None]:
    """Registers the organisation's endpoint, or points it at a new URL, and re-enables it.

    Returns the endpoint and, when it was created, its new secret (the only time it is shown);
    a URL change keeps the secret.
    """
    organisation_id = actor.organisation
    checked = await checked_url(url, allow_private=allow_private)
    await lock_organisation(session, organisation_id)  # one creation per organisation at a time
    endpoint = await repository.endpoint_of(session, organisation_id, for_update=True)
    secret = None
    if endpoint is None:
        secret = generate_secret()
        endpoint = WebhookEndpoint(
            id=new_id("whe"),
            organisation_id=organisation_id,
            secret_ciphertext=cipher.encrypt(secret),
            created_at=now,
        )
        session.add(endpoint)
    endpoint.url = checked
    await put_receiver(
        session,
        endpoint,
        "webhook.endpoint_registered" if secret else "webhook.endpoint_changed",
        actor=actor,
        now=now,
        url=endpoint.url,
    )
    return endpoint, secret


async def rotate_secret(
    session: AsyncSession,
    *,
    actor: Actor,
    cipher: SecretCipher,
    overlap: timedelta,
    now: datetime,
) -> tuple[WebhookEndpoint, str]:
    """A new secret signs from now; the current one keeps signing too until now + `overlap`.
    A secret still in an earlier overlap stops at once: at most two secrets sign."""
    endpoint = await get_endpoint(session, actor.organisation, for_update=True)
    secret = generate_secret()
    if overlap > timedelta(0):
        endpoint.previous_secret_ciphertext = endpoint.secret_ciphertext
        endpoint.previous_valid_until = now + overlap
    else:
        endpoint.previous_secret_ciphertext = None
        endpoint.previous_valid_until = None
    endpoint.secret_ciphertext = cipher.encrypt(secret)
    endpoint.updated_at = now
    await session.flush()
    await audit.record(
        session, "webhook.secret_rotated", actor=actor, subject=endpoint.id, now=now,
        overlap_seconds=int(overlap.total_seconds()),
    )  # fmt: skip
    return endpoint, secret


# --- deliveries --------------------------------------------------------------------------


def cursor_key(delivery: WebhookDelivery) -> str:
    return f"{delivery.created_at.isoformat()}|{delivery.id}"


def parse_cursor_key(key: str | None) -> tuple[datetime, str] | None:
    if key is None:
        return None
    created_at, separator, delivery_id = key.partition("|")
    try:
        moment = datetime.fromisoformat(created_at)
    except ValueError:
        moment = None
    if not separator or not delivery_id or moment is None or moment.tzinfo is None:
        raise InvalidCursor()
    return moment, delivery_id


async def describe(
    session: AsyncSession, deliveries: Sequence[WebhookDelivery]
) -> list[DeliveryOut]:
    attempts = await repository.attempts_of(session, [d.id for d in deliveries])
    return [
        DeliveryOut(
            id=d.id,
            channel=d.channel,  # type: ignore[arg-type]  # a DeliveryChannel in the database
            event_type=d.event_type,
            request_id=d.request_id,
            status=d.status,  # type: ignore[arg-type]  # a DeliveryStatus in the database
            attempts_in_schedule=d.attempts,
            next_attempt_at=d.next_attempt_at,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            created_at=d.created_at,
            delivered_at=d.delivered_at,
            dead_at=d.dead_at,
            payload=d.payload,
            attempts=[AttemptOut.model_validate(a) for a in attempts.get(d.id, [])],
        )
        for d in deliveries
    ]


async def get_delivery(
    session: AsyncSession, delivery_id: str, organisation_id: str, *, for_update: bool = False
) -> WebhookDelivery:
    delivery = await repository.delivery_of(
        session, delivery_id, organisation_id, for_update=for_update
    )
    return found(delivery, DeliveryNotFound, delivery_id)


async def replay_delivery(
    session: AsyncSession,
    *,
    actor: Actor,
    organisation_id: str,
    delivery_id: str,
    force: bool,
    now: datetime,
) -> tuple[WebhookDelivery, bool]:
    """Queues a dead or undeliverable delivery of `organisation_id` again (a delivered one only
    with `force`). A pending one is already queued and stays as it is, so replaying twice is
    harmless. Returns the delivery and whether it was queued again. `actor`: the organisation's
    call, or SYSTEM for an operator at the command line."""
    delivery = await get_delivery(session, delivery_id, organisation_id, for_update=True)
    if delivery.status == "delivered" and not force:
        raise AlreadyDelivered(
            f"'{delivery_id}' was delivered; send \"force\": true to deliver it again",
            detail_zh=f'“{delivery_id}”已送达；如需再次投递，请发送 "force": true',
            delivery_id=delivery_id,
        )
    if delivery.status == "pending":
        return delivery, False
    was = delivery.status
    for name, value in repository.requeued_values(now).items():
        setattr(delivery, name, value)
    await session.flush()
    await audit.record(
        session, "webhook.delivery_replayed", actor=actor, subject=delivery.id, now=now,
        organisation=organisation_id, channel=delivery.channel, was=was, force=force,
    )  # fmt: skip
    return delivery, True


async def replay_between(
    session: AsyncSession,
    *,
    actor: Actor,
    organisation_id: str,
    start: datetime,
    end: datetime,
    status: ReplayableStatus | None,
    force: bool,
    now: datetime,
) -> int:
    """Queues again the organisation's deliveries created in [start, end) that are dead or
    undeliverable, or only those in `status`; `delivered` needs `force`. Returns how many.
    `actor`: as for `replay_delivery`."""
    if status == "delivered" and not force:
        raise AlreadyDelivered(
            'replaying delivered deliveries sends them again; add "force": true',
            detail_zh='重放已送达的消息会再次投递；如确需重放，请加上 "force": true',
            field="status",
        )
    statuses = (status,) if status else REPLAYED_BY_DEFAULT
    requeued = await repository.requeue_created_between(
        session,
        organisation_id=organisation_id,
        start=start,
        end=end,
        statuses=statuses,
        now=now,
    )
    if requeued:  # nothing changed, nothing to record
        await audit.record(
            session, "webhook.deliveries_replayed", actor=actor, subject=organisation_id,
            now=now, created_from=start.isoformat(), created_to=end.isoformat(),
            statuses=list(statuses), force=force,
            requeued=requeued,
        )  # fmt: skip
    return requeued
