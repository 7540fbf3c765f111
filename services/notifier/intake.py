"""Turning consumed Kafka messages into durable delivery rows (PostgreSQL), idempotently: one
INSERT per batch of messages."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime

from aiokafka.structs import ConsumerRecord
from sqlalchemy import select

from broker.directory.models import Organisation
from notifier.recipients import Notification, notifications
from notifier.repository import Executor, insert_deliveries

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
    executor: Executor,
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
            }
            for n in notifications_of(record)
        ]
    if not rows:
        return 0
    new = await insert_deliveries(executor, rows, now=now)
    if len(new) < len(rows):
        left_out = {str(r["organisation_id"]) for r in rows if r["id"] not in new}
        await _warn_of_unknown(executor, left_out)
    return len(new)


async def _warn_of_unknown(executor: Executor, organisations: set[str]) -> None:
    """Rows left out are repeats or for recipients the directory does not know (an event from
    another environment sharing the topics, or a body since removed): name the latter."""
    query = select(Organisation.id).where(Organisation.id.in_(organisations))
    known = set((await executor.execute(query, {})).scalars())
    for unknown in sorted(organisations - known):
        logger.warning("skipping notifications for unknown organisation %r", unknown)
