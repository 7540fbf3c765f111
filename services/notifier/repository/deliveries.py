"""Delivery rows recorded from a batch of events: one INSERT for the whole batch, which also leases
the new webhook rows the notifier's worker has slots for."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, bindparam, select, text

from core.models.directory import Organisation
from notifier.repository import INTS, TEXTS, Executor
from notifier.repository.claims import ClaimedRow, claimed

# Recipients the directory does not know (another environment's events on the shared topics, a
# body since removed) are left out by the join rather than failing the batch on the foreign key.
# Each notification is a webhook row, and a row more for each of the recipient's notification
# channels that takes its type: the webhook's id with the channel's kind after a dot, so a
# message consumed twice maps onto the same rows here too.
#
# The notifier's own worker takes the new webhook rows it has slots for (`Taking`): up to its
# per-endpoint limit minus what it has in flight per organisation, as a claim would, they are
# written leased (next attempt at `:lease`) and answered with their endpoint, so they go out
# without a claim. The rest are written due now, for a claim. With `:limit` 0 none is taken.
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
), used AS (
    SELECT * FROM unnest(:busy, :busy_used) AS u(target, in_flight)
), placed AS (
    SELECT t.*, t.channel = 'webhook' AND row_number() OVER (
        PARTITION BY t.channel, t.organisation_id ORDER BY t.delivery_id
    ) <= :limit - coalesce(u.in_flight, 0) AS taken
    FROM targets t LEFT JOIN used u ON t.channel = 'webhook' AND u.target = t.organisation_id
), written AS (
    INSERT INTO webhook_deliveries
        (id, organisation_id, channel, event_type, ce_id, request_id, payload, traceparent,
         status, attempts, next_attempt_at, created_at)
    SELECT delivery_id, organisation_id, channel, event_type, ce_id, request_id,
           CAST(payload AS json), traceparent, 'pending', 0,
           CASE WHEN taken THEN :lease ELSE :now END, :now
    FROM placed
    ON CONFLICT (id) DO NOTHING
    RETURNING id, organisation_id, channel, payload, traceparent, attempts, next_attempt_at
)
SELECT w.id, w.organisation_id, w.channel,
       CASE WHEN w.next_attempt_at > :now THEN w.payload END AS payload, w.traceparent, w.attempts,
       w.next_attempt_at > :now AS taken, e.id AS endpoint_id, e.url, e.secret_ciphertext,
       e.previous_secret_ciphertext, e.previous_valid_until, e.disabled_at, e.disabled_reason,
       NULL AS channel_id, NULL AS names
FROM written w
LEFT JOIN webhook_endpoints e ON w.next_attempt_at > :now AND e.organisation_id = w.organisation_id
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
            "busy",
        )
    ),
    bindparam("busy_used", type_=INTS),
    bindparam("limit", type_=Integer),
    bindparam("now", type_=DateTime(timezone=True)),
    bindparam("lease", type_=DateTime(timezone=True)),
)
# The answer's JSON column, decoded (the rest are what the driver gives), as the claim's.
_WRITTEN = _INSERT.columns(payload=JSON)


@dataclass(frozen=True)
class Taking:
    """What the worker may take of a batch's new webhook rows: per organisation, `limit` minus
    what it has in flight (`busy`), leased until `lease`."""

    busy: dict[str, int]
    limit: int
    lease: datetime


NOT_TAKING = Taking({}, 0, datetime.min.replace(tzinfo=UTC))


@dataclass(frozen=True)
class Written:
    new: set[str]  # the ids of the rows that were new
    taken: list[ClaimedRow]  # the new rows leased to the worker, with their endpoints


async def insert_deliveries(
    executor: Executor,
    rows: Sequence[dict[str, Any]],
    *,
    now: datetime,
    taking: Taking = NOT_TAKING,
) -> Written:
    """Adds the pending deliveries `rows` describe; answers the ids that were new, and the rows
    `taking` leased."""
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
    params["busy"] = list(taking.busy)
    params["busy_used"] = list(taking.busy.values())
    params["limit"] = taking.limit
    params["lease"] = taking.lease
    answered = (await executor.execute(_WRITTEN, params)).mappings().all()
    return Written(
        new={row["id"] for row in answered},
        taken=[claimed(row) for row in answered if row["taken"]],
    )


async def known_organisations(executor: Executor, ids: Collection[str]) -> set[str]:
    """Which of `ids` the directory holds."""
    query = select(Organisation.id).where(Organisation.id.in_(ids))
    return set((await executor.execute(query, {})).scalars())
