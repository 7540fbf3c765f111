"""All SQL of the webhooks API."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from broker.kit.filters import where_given
from core.models.webhooks import (
    ArchivedAttempt,
    ArchivedDelivery,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)


async def endpoint_of(
    session: AsyncSession, organisation_id: str, *, for_update: bool = False
) -> WebhookEndpoint | None:
    query = select(WebhookEndpoint).where(WebhookEndpoint.organisation_id == organisation_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def list_deliveries(
    session: AsyncSession,
    *,
    organisation_id: str,
    event_type: str | None,
    status: str | None,
    request_id: str | None,
    before: tuple[datetime, str] | None,
    channel: str | None = None,
    limit: int,
) -> Sequence[WebhookDelivery]:
    """Newest first, by (created_at, id): ids are derived from the event, not time-ordered."""
    query = where_given(
        select(WebhookDelivery)
        .where(WebhookDelivery.organisation_id == organisation_id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        .limit(limit),
        (WebhookDelivery.event_type, event_type),
        (WebhookDelivery.status, status),
        (WebhookDelivery.request_id, request_id),
        (WebhookDelivery.channel, channel),
    )
    if before is not None:
        created_at, delivery_id = before
        query = query.where(
            or_(
                WebhookDelivery.created_at < created_at,
                and_(WebhookDelivery.created_at == created_at, WebhookDelivery.id < delivery_id),
            )
        )
    return (await session.scalars(query)).all()


async def delivery_of(
    session: AsyncSession, delivery_id: str, organisation_id: str, *, for_update: bool = False
) -> WebhookDelivery | None:
    query = select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.organisation_id == organisation_id
    )
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def deliveries_about(
    session: AsyncSession, request_id: str
) -> list[WebhookDelivery | ArchivedDelivery]:
    """Every webhook and channel message sent about a request, oldest first, archived ones
    (broker/outbox/archive.py) included."""
    found: list[WebhookDelivery | ArchivedDelivery] = []
    for model in (ArchivedDelivery, WebhookDelivery):
        found += await session.scalars(select(model).where(model.request_id == request_id))
    return sorted(found, key=lambda d: (d.created_at, d.id))


async def attempts_of(
    session: AsyncSession, delivery_ids: Sequence[str]
) -> dict[str, list[WebhookAttempt | ArchivedAttempt]]:
    """Each delivery's attempts, oldest first, archived ones included."""
    if not delivery_ids:
        return {}
    found: dict[str, list[WebhookAttempt | ArchivedAttempt]] = defaultdict(list)
    archived = select(ArchivedAttempt).where(ArchivedAttempt.delivery_id.in_(delivery_ids))
    current = select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(delivery_ids))
    attempts: list[WebhookAttempt | ArchivedAttempt] = [*await session.scalars(archived)]
    attempts += await session.scalars(current)
    for attempt in sorted(attempts, key=lambda a: (a.attempted_at, a.id)):
        found[attempt.delivery_id].append(attempt)
    return found


def requeued_values(now: datetime) -> dict[str, object]:
    """What a replay sets: pending from now, the retry schedule from its start. The attempt
    rows stay as history; `last_status_code` and `last_error` still describe the last one."""
    return {
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "delivered_at": None,
        "dead_at": None,
    }


async def requeue_created_between(
    session: AsyncSession,
    *,
    organisation_id: str,
    start: datetime,
    end: datetime,
    statuses: Sequence[str],
    now: datetime,
) -> int:
    """One UPDATE: rows the notifier holds are pending, so never among `statuses`."""
    conditions: list[ColumnElement[bool]] = [
        WebhookDelivery.organisation_id == organisation_id,
        WebhookDelivery.created_at >= start,
        WebhookDelivery.created_at < end,
        WebhookDelivery.status.in_(statuses),
    ]
    result = await session.execute(
        update(WebhookDelivery)
        .where(*conditions)
        .values(**requeued_values(now))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
