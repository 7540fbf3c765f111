"""What the database and Kafka say after the run: the figures it prints, and whether the system
has recovered (nothing left to publish, deliver or decide)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.faults.tally import KafkaTally
from core.events import CE_TYPE_PREFIX as CE_PREFIX
from core.events import ce_type

FINAL = ("approved", "rejected", "cancelled", "expired")
SUBMITTED = ce_type("request", "submitted")
# Not final and not waiting on a decision within its step's SLA: nobody is going to move it.
STUCK = text(
    """
    SELECT r.id FROM requests r
    LEFT JOIN request_steps s ON s.request_id = r.id AND s.index = r.current_step
    WHERE r.status = 'pending'
      AND NOT (s.status IN ('pending', 'on_hold') AND s.due_at > now())
    """
)


@dataclass
class Progress:
    """What recovery waits on."""

    unsent_events: int
    pending_deliveries: int
    pending_requests: int
    unpublished: int  # outbox rows marked sent (or not) whose ce_id Kafka has not shown us

    @property
    def settled(self) -> bool:
        return not (self.unsent_events or self.pending_deliveries or self.unpublished)


async def _scalar(engine: AsyncEngine, sql: str) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text(sql))).scalar_one())


async def _counts(engine: AsyncEngine, sql: str) -> dict[str, int]:
    async with engine.connect() as connection:
        return {str(k): int(v) for k, v in (await connection.execute(text(sql))).all()}


async def _outbox_ids(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT event_id, topic FROM outbox_events"))
        return {str(event_id): str(topic) for event_id, topic in rows.all()}


async def progress(engine: AsyncEngine, tally: KafkaTally) -> Progress:
    seen = tally.all_ids()
    outbox = await _outbox_ids(engine)
    return Progress(
        unsent_events=await _scalar(
            engine, "SELECT count(*) FROM outbox_events WHERE sent_at IS NULL"
        ),
        pending_deliveries=await _scalar(
            engine, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'"
        ),
        pending_requests=await _scalar(
            engine, "SELECT count(*) FROM requests WHERE status = 'pending'"
        ),
        unpublished=sum(1 for event_id in outbox if event_id not in seen),
    )


async def collect(
    engine: AsyncEngine,
    tally: KafkaTally,
    accepted: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """Every figure of the report, with the must-be-zero ones under `must_be_zero`."""
    ids = [a["id"] for a in accepted.values()]
    async with engine.connect() as connection:
        found: dict[str, str] = dict(
            (
                await connection.execute(
                    text("SELECT id, status FROM requests WHERE id IN :ids").bindparams(
                        bindparam("ids", expanding=True)
                    ),
                    {"ids": ids or ["-"]},
                )
            ).all()
        )
        stuck = [str(row[0]) for row in (await connection.execute(STUCK)).all()]
        stuck_accepted = sorted(set(stuck) & set(ids))
    outbox = await _outbox_ids(engine)
    seen = tally.all_ids()
    never_published = sorted(e for e in outbox if e not in seen)
    missing_in_db = sorted(i for i in ids if i not in found)
    submitted_unseen = sorted(
        i for i in ids if SUBMITTED not in tally.types_per_request.get(i, set())
    )
    final_unseen = sorted(
        i
        for i, status in found.items()
        if status in FINAL
        and ce_type("request", str(status)) not in tally.types_per_request.get(i, set())
    )
    duplicate_grants = await _scalar(
        engine,
        "SELECT count(*) FROM (SELECT request_id FROM grants GROUP BY request_id"
        " HAVING count(*) > 1) d",
    )
    grants_without_approval = await _scalar(
        engine,
        "SELECT count(*) FROM grants g JOIN requests r ON r.id = g.request_id"
        " WHERE r.status <> 'approved'",
    )
    approved_without_grant = await _scalar(
        engine,
        "SELECT count(*) FROM requests r WHERE r.status = 'approved'"
        " AND NOT EXISTS (SELECT 1 FROM grants g WHERE g.request_id = r.id)",
    )
    duplicate_decisions = await _scalar(
        engine,
        "SELECT count(*) FROM (SELECT step_id, organisation_id FROM decisions"
        " GROUP BY step_id, organisation_id HAVING count(*) > 1) d",
    )
    outbox_by_type = await _counts(engine, "SELECT type, count(*) FROM outbox_events GROUP BY 1")
    return {
        "accepted": len(accepted),
        "requests_in_db": len(found),
        "request_status": dict(Counter(str(s) for s in found.values())),
        "published": tally.published(),
        "published_by_topic": {t: len(v) for t, v in tally.ce_ids.items()},
        "kafka_messages_read": sum(tally.messages.values()),
        "kafka_duplicates": tally.duplicates(),
        "outbox_events": len(outbox),
        "outbox_by_type": {k.removeprefix(CE_PREFIX): v for k, v in sorted(outbox_by_type.items())},
        "deliveries": await _counts(
            engine, "SELECT status, count(*) FROM webhook_deliveries GROUP BY 1"
        ),
        "delivery_attempts": await _counts(
            engine, "SELECT outcome, count(*) FROM webhook_attempts GROUP BY 1"
        ),
        "decided": await _counts(engine, "SELECT decision, count(*) FROM decisions GROUP BY 1"),
        "escalations": await _scalar(engine, "SELECT count(*) FROM escalations"),
        "grants_issued": await _scalar(engine, "SELECT count(*) FROM grants"),
        "lost_detail": {
            "accepted_not_in_db": missing_in_db[:20],
            "submitted_event_not_on_kafka": submitted_unseen[:20],
            "final_event_not_on_kafka": final_unseen[:20],
            "outbox_events_not_on_kafka": never_published[:20],
        },
        "stuck_detail": stuck_accepted[:20],
        "must_be_zero": {
            "lost": len(set(missing_in_db) | set(submitted_unseen) | set(final_unseen))
            + len(never_published),
            "duplicate_grants": duplicate_grants + grants_without_approval,
            "approved_without_grant": approved_without_grant,
            "duplicate_decisions": duplicate_decisions,
            "stuck": len(stuck_accepted),
        },
    }
