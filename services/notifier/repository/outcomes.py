"""What deliveries came to: a batch of attempts written in one statement (the recorder's), and
a delivery's last outcome written with what must change with it (the worker's transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.models.notifications import NotificationChannel
from core.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from notifier.repository import INTS, STAMPS, TEXTS, Executor
from notifier.repository.claims import ClaimedRow

"""The notifier's hot statements: each is one round trip, atomic on its own (PostgreSQL).

Every round trip costs CPU on both ends as well as time, and the notifier makes them per batch
rather than per delivery: one INSERT records what a batch of messages asks for (webhooks and
messages to notification channels), one UPDATE claims the due deliveries (claims.py), one UPDATE
records a batch of attempts. None
needs a transaction around it, so they run on a connection in autocommit mode (no BEGIN and
COMMIT round trips).
"""


@dataclass(frozen=True)
class Settled:
    """What one attempt (or the lack of an endpoint) leaves on a delivery row; `tried` is the
    attempt to add to its history, if one was made."""

    delivery_id: str
    status: str  # pending (a retry), delivered or undeliverable
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    attempts: int | None  # None: unchanged (nothing was sent)
    delivered_at: datetime | None
    tried: Tried | None


@dataclass(frozen=True)
class Tried:
    endpoint_url: str
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    outcome: str
    error: str | None


_SETTLE = text(
    """WITH outcome AS (
    SELECT * FROM unnest(:ids, :statuses, :next_at, :codes, :errors, :attempts, :delivered_at)
        AS o(id, status, next_attempt_at, last_status_code, last_error, attempts, delivered_at)
), history AS (
    INSERT INTO webhook_attempts
        (delivery_id, endpoint_url, attempted_at, status_code, latency_ms, outcome, error)
    SELECT * FROM unnest(:t_ids, :t_urls, :t_at, :t_codes, :t_latency, :t_outcomes, :t_errors)
)
UPDATE webhook_deliveries d
SET status = o.status, next_attempt_at = o.next_attempt_at,
    last_status_code = o.last_status_code, last_error = o.last_error,
    attempts = coalesce(o.attempts, d.attempts),
    delivered_at = coalesce(o.delivered_at, d.delivered_at)
FROM outcome o
WHERE d.id = o.id
"""
).bindparams(
    *(bindparam(name, type_=TEXTS) for name in ("ids", "statuses", "errors")),
    *(bindparam(name, type_=TEXTS) for name in ("t_ids", "t_urls", "t_outcomes", "t_errors")),
    *(bindparam(name, type_=STAMPS) for name in ("next_at", "delivered_at", "t_at")),
    *(bindparam(name, type_=INTS) for name in ("codes", "attempts", "t_codes", "t_latency")),
)


async def settle(executor: Executor, outcomes: Sequence[Settled]) -> None:
    """Writes a batch of outcomes and their attempts, all or none, in one statement."""
    tried = [(o.delivery_id, o.tried) for o in outcomes if o.tried is not None]
    await executor.execute(
        _SETTLE,
        {
            "ids": [o.delivery_id for o in outcomes],
            "statuses": [o.status for o in outcomes],
            "next_at": [o.next_attempt_at for o in outcomes],
            "codes": [o.last_status_code for o in outcomes],
            "errors": [o.last_error for o in outcomes],
            "attempts": [o.attempts for o in outcomes],
            "delivered_at": [o.delivered_at for o in outcomes],
            "t_ids": [delivery_id for delivery_id, _ in tried],
            "t_urls": [t.endpoint_url for _, t in tried],
            "t_at": [t.attempted_at for _, t in tried],
            "t_codes": [t.status_code for _, t in tried],
            "t_latency": [t.latency_ms for _, t in tried],
            "t_outcomes": [t.outcome for _, t in tried],
            "t_errors": [t.error for _, t in tried],
        },
    )


async def finish(
    session: AsyncSession,
    delivery_id: str,
    status: str,
    *,
    now: datetime,
    next_attempt_at: datetime | None,
    last_status_code: int | None,
    last_error: str | None,
    attempts: int | None,  # None: unchanged
    tried: Tried | None,
) -> None:
    """A delivery's last outcome and the attempt that led to it, in the caller's transaction
    (with the dead-letter event or the disabling that goes with it)."""
    values: dict[str, Any] = {
        "status": status,
        "next_attempt_at": next_attempt_at,
        "last_status_code": last_status_code,
        "last_error": last_error,
    }
    if attempts is not None:
        values["attempts"] = attempts
    if status == "delivered":
        values["delivered_at"] = now
    if status == "dead":
        values["dead_at"] = now
    if tried is not None:
        session.add(WebhookAttempt(delivery_id=delivery_id, **asdict(tried)))
    await session.execute(
        update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(**values)
    )


async def disable_target(
    session: AsyncSession, delivery: ClaimedRow, now: datetime, error: str | None
) -> None:
    """Stops sending to what answered that it is gone: the endpoint (410) or the channel (the
    vendor's robot no longer exists); registering it again enables it."""
    if delivery.channel == "webhook":
        assert delivery.endpoint is not None
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == delivery.endpoint.id)
            .values(disabled_at=now, disabled_reason="the receiver answered 410 Gone")
        )
        return
    assert delivery.notification_channel is not None
    await session.execute(
        update(NotificationChannel)
        .where(NotificationChannel.id == delivery.notification_channel.id)
        .values(disabled_at=now, disabled_reason=error)
    )
