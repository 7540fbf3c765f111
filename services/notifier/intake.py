"""Turning consumed Kafka messages into durable delivery rows (PostgreSQL), idempotently."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime

from aiokafka.structs import ConsumerRecord
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from broker.directory.models import Organisation
from broker.webhooks.models import WebhookDelivery
from notifier.recipients import Notification, notifications

logger = logging.getLogger(__name__)


def header_of(record: ConsumerRecord[bytes, bytes], name: str) -> str | None:
    for key, value in record.headers:
        if key == name:
            return bytes(value).decode()
    return None


def notifications_of(record: ConsumerRecord[bytes, bytes]) -> list[Notification]:
    ce_id, ce_type = header_of(record, "ce_id"), header_of(record, "ce_type")
    if not ce_id or not ce_type or record.value is None:
        logger.warning("skipping a message that is not a CloudEvent at %s", record.offset)
        return []
    data = json.loads(record.value)
    return notifications(ce_id, ce_type, header_of(record, "ce_time") or "", data)


async def record_deliveries(
    session: AsyncSession,
    records: Iterable[ConsumerRecord[bytes, bytes]],
    *,
    now: datetime,
    traceparents: Sequence[str | None] | None = None,
) -> int:
    """Adds a pending delivery per notification; a message seen again adds nothing (its
    webhook ids exist already). Each row keeps the trace context its delivery continues:
    `traceparents[i]` for the i-th record (its process span's) if given, else the message's.
    Returns how many rows were new."""
    rows = []
    for index, record in enumerate(records):
        traceparent = (
            traceparents[index] if traceparents is not None else header_of(record, "traceparent")
        )
        rows += [
            {
                "id": n.webhook_id,
                "organisation_id": n.organisation_id,
                "event_type": n.type,
                "ce_id": n.ce_id,
                "request_id": n.request_id,
                "payload": n.body,
                "traceparent": traceparent,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for n in notifications_of(record)
        ]
    if not rows:
        return 0
    # A recipient the directory does not know (an event from another environment sharing the
    # topics, or a body since removed) must not block every notification behind it.
    known = set(
        await session.scalars(
            select(Organisation.id).where(Organisation.id.in_({r["organisation_id"] for r in rows}))
        )
    )
    for unknown in {r["organisation_id"] for r in rows} - known:
        logger.warning("skipping notifications for unknown organisation %r", unknown)
    rows = [r for r in rows if r["organisation_id"] in known]
    if not rows:
        return 0
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(WebhookDelivery).values(rows).on_conflict_do_nothing(index_elements=["id"])
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)
