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
) -> None:
    """The request's final event, and what an approval gives: a share's or a return's grant,
    with its later changes; a demand's draft catalog entry; nothing for an IT project."""
    rng = h.rng
    if status == "pending":
        return
    if status == "approved" and r.kind == "demand":
        _draft_entry(h, r, rows, at, txn)
    r.event(at, "request", status, r.id, to=r.requester.id)
    if status != "approved" or r.dataset is None:
        return
    grant_id, ends = time_id("grt", at, rng), r.created + timedelta(days=365)
    dataset = r.dataset
    grant = (grant_id, r.requester.id, dataset.owner_id, dataset.id)
    h.chains.append(
        rows,
        txn,
        at,
        r.requester.id if not decision_ids else None,
        "grant.issued",
        grant_id,
        grantee=r.requester.id,
        dataset=dataset.id,
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
                dataset.owner_id,
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
        dataset.owner_id,
        dataset.id,
        json.dumps(r.wanted),
        "办理业务核验",
        r.requester.division_code if r.kind == "return" else None,
        f"dataset:{dataset.id}:read",
        at,
        ends,
        state,
        json.dumps(decision_ids),
        at,
        revoked_at,
        dataset.owner_id if revoked_at else None,
        "超出约定用途使用" if revoked_at else None,
        rng.randint(0, 400),
        None,
    )


def _draft_entry(h: History, r: RequestFacts, rows: Rows, at: datetime, txn: list[int]) -> None:
    """An approved demand's draft catalog entry, owned by the provider that accepted it, as
    `requests/demands.py` drafts it; its grant waits for a publication the history leaves out."""
    assert r.description is not None
    r.dataset_id = f"{r.provider_id}-demand-{r.id.split('_', 1)[-1]}"[:100]
    rows.put(
        "datasets",
        id=r.dataset_id,
        name=r.description[:200],
        name_en=f"Demand {r.id}",
        description=r.description,
        owner_id=r.provider_id,
        sharing_class="conditional",
        fields="[]",
        grade="general",
        status="draft",
        created_at=at,
        updated_at=at,
    )
    h.chains.append(
        rows, txn, at, r.provider_id, "dataset.drafted", r.dataset_id,
        owner=r.provider_id, demand=r.id,
    )  # fmt: skip


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
