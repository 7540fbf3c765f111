"""Where the time after the 201 goes, read back from the rows the path leaves behind.

For each filing's first CDO webhook: the outbox row's `sent_at` (the relay marks it after Kafka's
ack), the delivery row's `created_at` (the notifier's consumer records it), its first attempt's
`attempted_at` (the worker has claimed it and is about to POST) and the receiver's arrival. All
clocks are this machine's, so the differences between hops are comparable.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from bench.environment import Environment
from testing.waiting import wait_until

_TIMES = """
SELECT d.request_id,
       extract(epoch FROM o.sent_at) AS acked,
       extract(epoch FROM d.created_at) AS recorded,
       extract(epoch FROM min(a.attempted_at)) AS posting
FROM webhook_deliveries d
JOIN outbox_events o ON o.event_id = d.ce_id
LEFT JOIN webhook_attempts a ON a.delivery_id = d.id
WHERE d.event_type = $1 AND d.request_id = ANY($2::text[])
GROUP BY d.request_id, o.sent_at, d.created_at
"""

# hop name: (from, to), in the order the path takes them. The relay marks a row after Kafka's
# ack, when its loop next runs: with the broker's loop busy that can be after the notifier has
# recorded the delivery, so the mark is an upper bound on the ack, not a step of the path.
HOPS = {
    "answer_to_relay_mark": ("answered", "acked"),
    "answer_to_delivery_row": ("answered", "recorded"),
    "row_to_post": ("recorded", "posting"),
    "post_to_arrival": ("posting", "arrived"),
}


async def _connect(environment: Environment) -> asyncpg.Connection:
    return await asyncpg.connect(
        host=environment.pg_host,
        port=environment.pg_port,
        user="cdo",
        password="cdo",
        database=environment.database,
    )


async def settled(environment: Environment, *, limit_s: float) -> None:
    """Until no delivery is pending, i.e. every POST's outcome is recorded too (its cost is
    part of the notifier's CPU per webhook), (gives up after `limit_s`)."""
    connection = await _connect(environment)

    async def none_pending() -> bool:
        return not await connection.fetchval(
            "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'"
        )

    try:
        await wait_until(none_pending, limit_s=limit_s, what="the pending deliveries")
    finally:
        await connection.close()


async def times(environment: Environment, kind: str, ids: list[str]) -> dict[str, dict[str, float]]:
    """Per request id: when Kafka acked its event, its delivery row was recorded, and its first
    POST started (seconds since the epoch)."""
    connection = await _connect(environment)
    try:
        rows = await connection.fetch(_TIMES, kind, ids)
    finally:
        await connection.close()
    return {
        row["request_id"]: {
            name: float(row[name]) for name in ("acked", "recorded", "posting") if row[name]
        }
        for row in rows
    }


def hops(
    answered: dict[str, float], arrived: dict[str, float], marks: dict[str, dict[str, float]]
) -> dict[str, list[float]]:
    """Milliseconds spent in each hop, per request that went the whole way."""
    spent: dict[str, list[float]] = {name: [] for name in HOPS}
    for request_id, at in marks.items():
        if request_id not in answered or request_id not in arrived:
            continue
        points: dict[str, Any] = at | {
            "answered": answered[request_id],
            "arrived": arrived[request_id],
        }
        for name, (start, end) in HOPS.items():
            if start in points and end in points:
                spent[name].append(1000 * (points[end] - points[start]))
    return spent
