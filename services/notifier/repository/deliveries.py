"""Delivery rows recorded from a batch of events: one INSERT for the whole batch."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, bindparam, select, text

from core.models.directory import Organisation
from notifier.repository import TEXTS, Executor

# Recipients the directory does not know (another environment's events on the shared topics, a
# body since removed) are left out by the join rather than failing the batch on the foreign key.
# Each notification is a webhook row, and a row more for each of the recipient's notification
# channels that takes its type: the webhook's id with the channel's kind after a dot, so a
# message consumed twice maps onto the same rows here too.
_INSERT = text(
    """WITH n AS (
    SELECT * FROM unnest(:ids, :organisations, :types, :ce_ids, :request_ids, :payloads,
                         :traceparents)
        AS n(id, organisation_id, event_type, ce_id, request_id, payload, traceparent)
), targets AS (
    SELECT n.*, 'webhook' AS channel, n.id AS delivery_id
    FROM n JOIN organisations o ON o.id = n.organisation_id
    UNION ALL
    SELECT n.*, c.kind, n.id || '.' || c.kind
    FROM n JOIN notification_channels c
      ON c.organisation_id = n.organisation_id AND c.events::jsonb ? n.event_type
)
INSERT INTO webhook_deliveries
    (id, organisation_id, channel, event_type, ce_id, request_id, payload, traceparent,
     status, attempts, next_attempt_at, created_at)
SELECT delivery_id, organisation_id, channel, event_type, ce_id, request_id,
       CAST(payload AS json), traceparent, 'pending', 0, :now, :now
FROM targets
ON CONFLICT (id) DO NOTHING
RETURNING id
"""
).bindparams(
    *(
        bindparam(name, type_=TEXTS)
        for name in (
            "ids",
            "organisations",
            "types",
            "ce_ids",
            "request_ids",
            "payloads",
            "traceparents",
        )
    ),
    bindparam("now", type_=DateTime(timezone=True)),
)


async def insert_deliveries(
    executor: Executor, rows: Sequence[dict[str, Any]], *, now: datetime
) -> set[str]:
    """Adds the pending deliveries `rows` describe; answers the ids that were new."""
    columns = {
        "ids": "id",
        "organisations": "organisation_id",
        "types": "event_type",
        "ce_ids": "ce_id",
        "request_ids": "request_id",
        "traceparents": "traceparent",
    }
    params: dict[str, Any] = {name: [r[key] for r in rows] for name, key in columns.items()}
    params["payloads"] = [json.dumps(r["payload"], ensure_ascii=False) for r in rows]
    params["now"] = now
    return set((await executor.execute(_INSERT, params)).scalars())


async def known_organisations(executor: Executor, ids: Collection[str]) -> set[str]:
    """Which of `ids` the directory holds."""
    query = select(Organisation.id).where(Organisation.id.in_(ids))
    return set((await executor.execute(query, {})).scalars())
