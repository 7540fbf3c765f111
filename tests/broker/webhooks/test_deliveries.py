"""Listing, reading and replaying deliveries, over the API and the `webhooks replay` command."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import utcnow
from core.models.webhooks import WebhookAttempt, WebhookDelivery
from testing.audit import audit_mark, audited_since
from testing.clients import TokenFactory, new_caller
from testing.organisations import manager, new_organisation
from testing.processes import cdo_broker

pytestmark = pytest.mark.integration

Sessions = async_sessionmaker[AsyncSession]
HOUR = timedelta(hours=1)


async def add_delivery(
    sessionmaker: Sessions,
    org_id: str,
    *,
    status: str = "dead",
    event_type: str = "approval.requested",
    request_id: str | None = "req_1",
    created_at: datetime | None = None,
    failures: int = 0,
    delivered: bool = False,
) -> str:
    """A delivery as the notifier leaves it, with `failures` 503 attempts (then a 200 if
    `delivered`), one minute apart from its creation."""
    created_at = created_at or utcnow()
    delivery_id = f"msg_{uuid.uuid4().hex}"
    attempts = failures + int(delivered)
    async with sessionmaker() as session:
        session.add(
            WebhookDelivery(
                id=delivery_id,
                organisation_id=org_id,
                event_type=event_type,
                ce_id=str(uuid.uuid4()),
                request_id=request_id,
                payload={"type": event_type, "timestamp": created_at.isoformat(), "data": {}},
                status=status,
                attempts=attempts,
                next_attempt_at=created_at + HOUR if status == "pending" else None,
                last_status_code=200 if delivered else (503 if failures else None),
                last_error="HTTP 503" if failures and not delivered else None,
                created_at=created_at,
                delivered_at=created_at if delivered else None,
                dead_at=created_at if status == "dead" else None,
            )
        )
        await session.flush()
        for n in range(attempts):
            ok = delivered and n == attempts - 1
            session.add(
                WebhookAttempt(
                    delivery_id=delivery_id,
                    endpoint_url="https://93.184.215.14/hooks",
                    attempted_at=created_at + timedelta(minutes=n + 1),
                    status_code=200 if ok else 503,
                    latency_ms=40 + n,
                    outcome="delivered" if ok else "retry",
                    error=None if ok else "HTTP 503",
                )
            )
        await session.commit()
    return delivery_id


async def stored(sessionmaker: Sessions, delivery_id: str) -> WebhookDelivery:
    async with sessionmaker() as session:
        delivery = await session.get(WebhookDelivery, delivery_id)
    assert delivery is not None
    return delivery


async def listed(client: httpx.AsyncClient, headers: dict[str, str], **query: Any) -> list[str]:
    """Every id the listing yields, following the cursors."""
    ids: list[str] = []
    cursor = None
    while True:
        params = query | ({"cursor": cursor} if cursor else {})
        page = await client.get("/v1/webhooks/deliveries", headers=headers, params=params)
        assert page.status_code == 200, page.text
        ids += [d["id"] for d in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return ids


async def test_deliveries_are_listed_newest_first_with_their_attempts(
    client: httpx.AsyncClient, headers: dict[str, str], org: str, sessionmaker: Sessions
) -> None:
    now = utcnow()
    same_moment = now - 2 * HOUR  # equal created_at: the cursor must not skip or repeat
    ids = [
        await add_delivery(sessionmaker, org, created_at=now - 3 * HOUR, failures=3),
        await add_delivery(sessionmaker, org, created_at=same_moment, status="pending"),
        await add_delivery(sessionmaker, org, created_at=same_moment, status="pending"),
        await add_delivery(
            sessionmaker, org, created_at=now - HOUR, status="delivered", failures=1, delivered=True
        ),
    ]
    stranger = await new_organisation(sessionmaker)
    await add_delivery(sessionmaker, stranger, created_at=now)

    newest_first = [ids[3], *sorted(ids[1:3], reverse=True), ids[0]]
    assert await listed(client, headers, limit=1) == newest_first
    assert await listed(client, headers, limit=2) == newest_first

    page = (await client.get("/v1/webhooks/deliveries", headers=headers)).json()
    delivered = page["items"][0]
    assert delivered["status"] == "delivered"
    assert delivered["attempts_in_schedule"] == 2
    assert [(a["status_code"], a["outcome"]) for a in delivered["attempts"]] == [
        (503, "retry"),
        (200, "delivered"),
    ]
    assert set(delivered["attempts"][0]) == {
        "attempted_at", "endpoint_url", "status_code", "latency_ms", "outcome", "error",
    }  # fmt: skip
    assert delivered["attempts"][0]["error"] == "HTTP 503"
    assert delivered["attempts"][1]["latency_ms"] == 41


async def test_deliveries_filter_by_event_status_and_request(
    client: httpx.AsyncClient, headers: dict[str, str], org: str, sessionmaker: Sessions
) -> None:
    escalated = await add_delivery(sessionmaker, org, event_type="approval.escalated")
    pending = await add_delivery(sessionmaker, org, status="pending", request_id="req_2")
    dead = await add_delivery(sessionmaker, org, request_id="req_3")

    assert await listed(client, headers, event="approval.escalated") == [escalated]
    assert await listed(client, headers, status="pending") == [pending]
    assert await listed(client, headers, request_id="req_3") == [dead]
    assert await listed(client, headers, status="dead", event="approval.requested") == [dead]
    assert await listed(client, headers, event="grant.revoked") == []

    bad = await client.get("/v1/webhooks/deliveries", headers=headers, params={"status": "lost"})
    assert bad.status_code == 422
    forged = await client.get("/v1/webhooks/deliveries", headers=headers, params={"cursor": "eHl6"})
    assert forged.status_code == 422
    assert forged.json()["type"].endswith("/invalid-cursor")


async def test_one_delivery_is_visible_to_its_organisation_only(
    client: httpx.AsyncClient, headers: dict[str, str], org: str, sessionmaker: Sessions,
    token_for: TokenFactory,
) -> None:  # fmt: skip
    delivery_id = await add_delivery(sessionmaker, org, failures=2)

    mine = await client.get(f"/v1/webhooks/deliveries/{delivery_id}", headers=headers)
    assert mine.status_code == 200
    assert mine.json()["id"] == delivery_id
    assert len(mine.json()["attempts"]) == 2

    stranger = await manager(token_for, await new_organisation(sessionmaker))
    for response in (
        await client.get(f"/v1/webhooks/deliveries/{delivery_id}", headers=stranger),
        await client.post(f"/v1/webhooks/deliveries/{delivery_id}/replay", headers=stranger),
        await client.get("/v1/webhooks/deliveries/msg_nothing", headers=headers),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    assert await listed(client, stranger) == []


async def test_another_organisations_replay_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, org: str, sessionmaker: Sessions, token_for: TokenFactory
) -> None:
    delivery_id = await add_delivery(sessionmaker, org, failures=7)
    start = utcnow() - HOUR
    period = {"from": start.isoformat(), "to": (start + 2 * HOUR).isoformat()}
    other = await new_organisation(sessionmaker)
    stranger = await manager(token_for, other)
    mark = await audit_mark(sessionmaker)

    refused = await client.post(f"/v1/webhooks/deliveries/{delivery_id}/replay", headers=stranger)
    ranged = await client.post("/v1/webhooks/deliveries/replay", headers=stranger, json=period)

    assert refused.status_code == 404
    assert ranged.json() == {"requeued": 0}  # a period is only ever the caller's own
    row = await stored(sessionmaker, delivery_id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("dead", 7, None)
    assert await audited_since(sessionmaker, mark, actor=other) == []
    assert await audited_since(sessionmaker, mark, actor=org) == []


async def test_replaying_a_dead_delivery_queues_it_and_keeps_its_history(
    client: httpx.AsyncClient, headers: dict[str, str], org: str, sessionmaker: Sessions
) -> None:
    delivery_id = await add_delivery(sessionmaker, org, failures=7)
    before = utcnow()

    replayed = await client.post(f"/v1/webhooks/deliveries/{delivery_id}/replay", headers=headers)

    assert replayed.status_code == 200, replayed.text
    body = replayed.json()
    assert body["status"] == "pending"
    assert body["attempts_in_schedule"] == 0
    assert body["dead_at"] is None
    assert len(body["attempts"]) == 7
    row = await stored(sessionmaker, delivery_id)
    assert row.status == "pending"
    assert row.attempts == 0
    assert row.next_attempt_at is not None
    assert before <= row.next_attempt_at <= utcnow()

    again = await client.post(f"/v1/webhooks/deliveries/{delivery_id}/replay", headers=headers)
    assert again.status_code == 200  # already queued: left as it is
    assert (await stored(sessionmaker, delivery_id)).next_attempt_at == row.next_attempt_at


async def test_a_delivered_delivery_is_replayed_only_when_forced(
    client: httpx.AsyncClient, headers: dict[str, str], org: str, sessionmaker: Sessions
) -> None:
    delivery_id = await add_delivery(sessionmaker, org, status="delivered", delivered=True)
    path = f"/v1/webhooks/deliveries/{delivery_id}/replay"

    refused = await client.post(path, headers=headers, json={})
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("/webhook-already-delivered")
    assert (await stored(sessionmaker, delivery_id)).status == "delivered"

    forced = await client.post(path, headers=headers, json={"force": True})
    assert forced.status_code == 200
    assert forced.json()["status"] == "pending"
    assert forced.json()["delivered_at"] is None


async def test_replaying_a_period_queues_its_failed_deliveries(
    client: httpx.AsyncClient, headers: dict[str, str], org: str, sessionmaker: Sessions,
    token_for: TokenFactory,
) -> None:  # fmt: skip
    start = utcnow() - 10 * HOUR
    dead = await add_delivery(sessionmaker, org, created_at=start, failures=3)
    undeliverable = await add_delivery(
        sessionmaker, org, created_at=start + HOUR, status="undeliverable"
    )
    delivered = await add_delivery(
        sessionmaker, org, created_at=start + HOUR, status="delivered", delivered=True
    )
    pending = await add_delivery(sessionmaker, org, created_at=start + HOUR, status="pending")
    too_late = await add_delivery(sessionmaker, org, created_at=start + 2 * HOUR)
    too_early = await add_delivery(sessionmaker, org, created_at=start - timedelta(seconds=1))
    stranger = await new_organisation(sessionmaker)
    strangers = await add_delivery(sessionmaker, stranger, created_at=start + HOUR)
    period = {"from": start.isoformat(), "to": (start + 2 * HOUR).isoformat()}

    replayed = await client.post("/v1/webhooks/deliveries/replay", headers=headers, json=period)

    assert replayed.status_code == 200, replayed.text
    assert replayed.json() == {"requeued": 2}
    statuses = {d: (await stored(sessionmaker, d)).status for d in (
        dead, undeliverable, delivered, pending, too_late, too_early, strangers,
    )}  # fmt: skip
    assert statuses == {
        dead: "pending", undeliverable: "pending", delivered: "delivered", pending: "pending",
        too_late: "dead", too_early: "dead", strangers: "dead",
    }  # fmt: skip
    assert (await stored(sessionmaker, dead)).attempts == 0

    only_delivered = period | {"status": "delivered"}
    refused = await client.post(
        "/v1/webhooks/deliveries/replay", headers=headers, json=only_delivered
    )
    assert refused.status_code == 409
    forced = await client.post(
        "/v1/webhooks/deliveries/replay", headers=headers, json=only_delivered | {"force": True}
    )
    assert forced.json() == {"requeued": 1}
    assert (await stored(sessionmaker, delivered)).status == "pending"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "to"),
        ({"from": "2026-01-01T00:00:00", "to": "2026-01-02T00:00:00Z"}, "from"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "status": "x"}, "status"),
        ({"to": "2026-01-02T00:00:00Z"}, "from"),
    ],
)
async def test_a_replay_period_is_validated(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, str], field: str
) -> None:
    refused = await client.post("/v1/webhooks/deliveries/replay", headers=headers, json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == field


async def test_the_replay_command_queues_by_id_and_by_period(
    migrated: str, org: str, sessionmaker: Sessions
) -> None:
    start = utcnow() - 5 * HOUR
    one = await add_delivery(sessionmaker, org, created_at=start - HOUR)
    two = await add_delivery(sessionmaker, org, created_at=start, status="undeliverable")
    three = await add_delivery(sessionmaker, org, created_at=start + HOUR)
    done = await add_delivery(sessionmaker, org, created_at=start, status="delivered")

    by_id = cdo_broker("webhooks", "replay", "--org", org, "--id", one, database_url=migrated)
    assert by_id.returncode == 0, by_id.stderr
    assert json.loads(by_id.stdout) == {"requeued": 1}
    assert (await stored(sessionmaker, one)).status == "pending"

    by_period = cdo_broker(
        "webhooks", "replay", "--org", org,
        "--from", start.isoformat(), "--to", (start + 2 * HOUR).isoformat(),
        database_url=migrated,
    )  # fmt: skip
    assert by_period.returncode == 0, by_period.stderr
    assert json.loads(by_period.stdout) == {"requeued": 2}
    assert {(await stored(sessionmaker, d)).status for d in (two, three)} == {"pending"}
    assert (await stored(sessionmaker, done)).status == "delivered"

    refused = cdo_broker("webhooks", "replay", "--org", org, "--id", done, database_url=migrated)
    assert refused.returncode == 2
    assert "force" in refused.stderr
    unnamed = cdo_broker("webhooks", "replay", "--org", org, "--from", "2026-01-01",
                         database_url=migrated)  # fmt: skip
    assert unnamed.returncode == 2
    assert "--to" in unnamed.stderr


async def test_each_replay_that_queues_is_audited_naming_the_caller(
    client: httpx.AsyncClient, org: str, sessionmaker: Sessions
) -> None:
    caller = await new_caller(client, sessionmaker, org, "webhooks:manage")
    headers = caller.headers
    start = utcnow() - 10 * HOUR
    one = await add_delivery(sessionmaker, org, created_at=start, failures=7)
    await add_delivery(sessionmaker, org, created_at=start + HOUR, status="undeliverable")
    done = await add_delivery(
        sessionmaker, org, created_at=start, status="delivered", delivered=True
    )
    period = {"from": (start + HOUR).isoformat(), "to": (start + 2 * HOUR).isoformat()}
    mark = await audit_mark(sessionmaker)

    replayed = await client.post(f"/v1/webhooks/deliveries/{one}/replay", headers=headers)
    queued_already = await client.post(f"/v1/webhooks/deliveries/{one}/replay", headers=headers)
    refused = await client.post(f"/v1/webhooks/deliveries/{done}/replay", headers=headers)
    ranged = await client.post("/v1/webhooks/deliveries/replay", headers=headers, json=period)
    nothing_left = await client.post("/v1/webhooks/deliveries/replay", headers=headers, json=period)

    assert (replayed.status_code, queued_already.status_code, refused.status_code) == (
        200,
        200,
        409,
    )
    assert (ranged.json(), nothing_left.json()) == ({"requeued": 1}, {"requeued": 0})
    rows = await audited_since(sessionmaker, mark, actor=org)
    assert [(r.action, r.subject) for r in rows] == [
        ("webhook.delivery_replayed", one),
        ("webhook.deliveries_replayed", org),
    ]
    assert {(r.client_id, r.person_id) for r in rows} == {(caller.client_id, None)}
    assert rows[0].detail == {
        "organisation": org, "channel": "webhook", "was": "dead", "force": False,
    }  # fmt: skip
    assert rows[1].detail == {
        "created_from": period["from"], "created_to": period["to"],
        "statuses": ["dead", "undeliverable"], "force": False, "requeued": 1,
    }  # fmt: skip
