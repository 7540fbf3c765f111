"""How a decided request ends: its final event, the grant an approval gives and what later
happens to it (revoked, expired), and the outbox rows and webhooks of every event."""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from datetime import datetime, timedelta

from broker.seed.history.rows import DAY, History, RequestFacts, Rows, time_id
from core.models.outbox import shard_of


def finish(
    h: History,
    r: RequestFacts,
    rows: Rows,
    status: str,
    at: datetime,
    decision_ids: list[str],
    txn: list[int],
    wanted: list[str],
    legal: bool,
) -> None:
    """The request's final event, and the grant an approval gives, with its later changes."""
    rng = h.rng
    if status == "pending":
        return
    r.event(at, "request", status, r.id, to=r.requester.id)
    if status != "approved":
        return
    grant_id, ends = time_id("grt", at, rng), r.created + timedelta(days=365)
    grant = (grant_id, r.requester.id, r.dataset.owner_id, r.dataset.id)
    h.chains.append(
        rows,
        txn,
        at,
        r.requester.id if not decision_ids else None,
        "grant.issued",
        grant_id,
        grantee=r.requester.id,
        dataset=r.dataset.id,
        decisions=decision_ids,
    )
    rows.add("grant_changes", *grant, "issued", "active", ends, at)
    r.event(at, "grant", "issued", grant_id, grant_id=grant_id)
    state, revoked_at = "active", None
    if rng.random() < 0.03:
        revoked_at = at + timedelta(seconds=rng.randint(DAY, 200 * DAY))
        if revoked_at < min(ends, h.until):
            state = "revoked"
            h.chains.append(
                rows,
                [],
                revoked_at,
                r.dataset.owner_id,
                "grant.revoked",
                grant_id,
                reason="超出约定用途使用",
            )
            rows.add("grant_changes", *grant, "revoked", "revoked", ends, revoked_at)
            r.event(revoked_at, "grant", "revoked", grant_id, grant_id=grant_id)
        else:
            revoked_at = None
    if state == "active" and ends < h.until:
        state = "expired"
        h.chains.append(rows, [], ends, None, "grant.expired", grant_id)
        rows.add("grant_changes", *grant, "expired", "expired", ends, ends)
        r.event(ends, "grant", "expired", grant_id, grant_id=grant_id)
    rows.add(
        "grants",
        grant_id,
        r.id,
        r.requester.id,
        r.dataset.owner_id,
        r.dataset.id,
        json.dumps(wanted),
        "办理业务核验",
        r.requester.division_code if r.kind == "return" else None,
        f"dataset:{r.dataset.id}:read",
        at,
        ends,
        state,
        json.dumps(decision_ids),
        at,
        revoked_at,
        r.dataset.owner_id if revoked_at else None,
        "超出约定用途使用" if revoked_at else None,
        rng.randint(0, 400),
        None,
    )
    del legal


def write_events(r: RequestFacts, rows: Rows, rng: random.Random) -> None:
    """The outbox rows (all published) and the webhook each one addressed to a body caused."""
    traceparent = f"00-{r.trace}-{rng.getrandbits(64):016x}-01"
    for at, topic, key, type_, data, to in r.events:
        ce_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        rows.add(
            "outbox_events",
            ce_id,
            topic,
            key,
            shard_of(key),
            type_,
            "/cdo-broker",
            r.id,
            json.dumps(data, ensure_ascii=False),
            traceparent,
            None,
            at,
            at + timedelta(milliseconds=40),
            1,
            None,
        )
        if to is None:
            continue
        delivery = "msg_" + hashlib.sha256(f"{ce_id}|{to}|webhook".encode()).hexdigest()[:32]
        tries = 2 if rng.random() < 0.05 else 1
        delivered = at + timedelta(seconds=tries)
        rows.add(
            "webhook_deliveries",
            delivery,
            to,
            "webhook",
            type_.rsplit(".", 2)[-2] + "." + type_.rsplit(".", 1)[-1],
            ce_id,
            r.id,
            json.dumps(data, ensure_ascii=False),
            traceparent,
            "delivered",
            tries,
            None,
            200,
            None,
            at,
            delivered,
            None,
        )
        for n in range(tries):
            last = n == tries - 1
            rows.add(
                "webhook_attempts",
                delivery,
                "https://cdo.example.gov.cn/hooks",
                at + timedelta(seconds=n),
                200 if last else 503,
                rng.randint(20, 300),
                "delivered" if last else "retry",
                None if last else "HTTP 503",
            )
