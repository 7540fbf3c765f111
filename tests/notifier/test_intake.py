"""Consumed messages become delivery rows: idempotently, and a recipient the directory does not
know never blocks the rest of the batch."""

from __future__ import annotations

import json
import uuid

import pytest
from aiokafka.structs import ConsumerRecord
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.kit.clock import utcnow
from broker.webhooks.models import WebhookDelivery
from notifier.intake import record_deliveries

pytestmark = pytest.mark.integration


def _message(approver: str, request_id: str) -> ConsumerRecord[bytes, bytes]:
    headers = [
        ("ce_id", str(uuid.uuid4()).encode()),
        ("ce_type", b"cn.gov.gd.cdo.approval.requested"),
        ("ce_time", b"2026-11-27T08:00:00Z"),
    ]
    value = json.dumps({"approver_id": approver, "request_id": request_id}).encode()
    return ConsumerRecord(
        topic="datashare.approvals", partition=0, offset=1, timestamp=0, timestamp_type=0,
        key=approver.encode(), value=value, checksum=None, serialized_key_size=0,
        serialized_value_size=len(value), headers=headers,
    )  # fmt: skip


async def test_unknown_recipients_are_skipped_and_repeats_add_nothing(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: object
) -> None:
    request_id = f"req_test{uuid.uuid4().hex[:12]}"
    batch = [_message("no-such-body", request_id), _message("gz-gaj", request_id)]
    async with sessionmaker() as session, session.begin():
        assert await record_deliveries(session, batch, now=utcnow()) == 1
    async with sessionmaker() as session, session.begin():
        assert await record_deliveries(session, batch, now=utcnow()) == 0  # consumed twice
    async with sessionmaker() as session:
        rows = list(
            await session.scalars(
                select(WebhookDelivery).where(WebhookDelivery.request_id == request_id)
            )
        )
    assert [(r.organisation_id, r.event_type) for r in rows] == [("gz-gaj", "approval.requested")]
