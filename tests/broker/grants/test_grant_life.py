"""A grant's life: revoke (provider's CDO or the data bureau, with a reason), pause and resume,
expiry by the job, events on `datashare.grants`, and use counted by introspection."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.oauth.standing import VERSION_KEY
from broker.requests import sla
from core.clock import utcnow
from core.models.grants import Grant, GrantChange
from core.models.outbox import OutboxEvent
from testing.apps import LINKS
from testing.audit import audit_mark, audited_since
from testing.clients import ALL_SCOPES, bearer, new_client
from testing.workloads import request_body

pytestmark = pytest.mark.integration
Sessions = async_sessionmaker[AsyncSession]
DATASET = "gd-rst-labour-dispatch-licences"  # unconditional, owned by gd-rst
SCOPE = f"dataset:{DATASET}:read"


async def _token(
    http: httpx.AsyncClient, credentials: tuple[str, str], scope: str
) -> httpx.Response:
    return await http.post(
        "/oauth/token", data={"grant_type": "client_credentials", "scope": scope}, auth=credentials
    )


@pytest.fixture
async def world(client: httpx.AsyncClient, sessionmaker: Sessions) -> dict[str, Any]:
    holder = await new_client(sessionmaker, "fs-gaj", ALL_SCOPES)
    api = (await _token(client, holder, "requests:submit grants:read")).json()["access_token"]
    filed = await client.post(
        "/v1/requests", headers=bearer(api), json=request_body(DATASET, ["licence_number"])
    )
    provider = await new_client(
        sessionmaker, "gd-rst", "grants:revoke grants:read tokens:introspect"
    )
    provider_api = (await _token(client, provider, "grants:revoke grants:read")).json()[
        "access_token"
    ]
    return {
        "grant_id": filed.json()["grant_id"],
        "holder": holder,
        "holder_api": bearer(api),
        "provider": provider,
        "provider_api": bearer(provider_api),
    }


async def _active(http: httpx.AsyncClient, token: str, resource_server: tuple[str, str]) -> bool:
    answer = await http.post("/oauth/introspect", data={"token": token}, auth=resource_server)
    return bool(answer.json()["active"])


async def _events(sessionmaker: Sessions, grant_id: str) -> list[str]:
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(OutboxEvent.type).where(OutboxEvent.key == grant_id).order_by(OutboxEvent.id)
        )
        return [t.rsplit(".", 1)[1] for t in rows]


async def test_pause_resume_and_revoke_by_the_provider(
    client: httpx.AsyncClient, sessionmaker: Sessions, world: dict[str, Any]
) -> None:
    grant_url = f"/v1/grants/{world['grant_id']}"
    token = (await _token(client, world["holder"], SCOPE)).json()["access_token"]
    assert await _active(client, token, world["provider"])

    paused = await client.post(f"{grant_url}/pause", headers=world["provider_api"])
    assert paused.json()["status"] == "paused"
    assert not await _active(client, token, world["provider"])
    assert (await _token(client, world["holder"], SCOPE)).json()["error"] == "invalid_scope"

    resumed = await client.post(f"{grant_url}/resume", headers=world["provider_api"])
    assert resumed.json()["status"] == "active"
    assert await _active(client, token, world["provider"])

    no_reason = await client.post(f"{grant_url}/revoke", headers=world["provider_api"], json={})
    assert no_reason.status_code == 422
    revoked = await client.post(
        f"{grant_url}/revoke", headers=world["provider_api"], json={"reason": "超出用途使用"}
    )
    assert revoked.json()["status"] == "revoked"
    assert revoked.json()["revoke_reason"] == "超出用途使用"
    assert not await _active(client, token, world["provider"])
    again = await client.post(
        f"{grant_url}/revoke", headers=world["provider_api"], json={"reason": "超出用途使用"}
    )
    assert again.status_code == 200
    assert (
        await client.post(f"{grant_url}/resume", headers=world["provider_api"])
    ).status_code == 409
    assert await _events(sessionmaker, world["grant_id"]) == [
        "issued",
        "paused",
        "resumed",
        "revoked",
    ]


async def test_only_the_provider_or_a_data_bureau_changes_a_grant(
    client: httpx.AsyncClient, sessionmaker: Sessions, world: dict[str, Any], token_for: Any
) -> None:
    grant_url = f"/v1/grants/{world['grant_id']}"
    by_grantee = await client.post(f"{grant_url}/pause", headers=world["holder_api"])
    assert by_grantee.status_code == 403
    stranger = bearer(await token_for("sz-gaj", "grants:revoke"))
    assert (await client.post(f"{grant_url}/pause", headers=stranger)).status_code == 404
    bureau = bearer(await token_for("gd-dsb", "grants:revoke"))
    by_bureau = await client.post(
        f"{grant_url}/revoke", headers=bureau, json={"reason": "督办纠正"}
    )
    assert by_bureau.json()["status"] == "revoked"


async def test_a_refused_grant_change_changes_nothing(
    client: httpx.AsyncClient,
    sessionmaker: Sessions,
    redis: Redis,
    world: dict[str, Any],
    token_for: Any,
) -> None:
    """The grantee (403) and a body with no say over the provider (404) pause and revoke in
    vain: the grant stays active, no change row (nor its event) or audit row is written, and its
    standing is not dropped (the grants' version stays)."""
    grant_url = f"/v1/grants/{world['grant_id']}"
    stranger = bearer(await token_for("sz-gaj", "grants:revoke"))
    mark = await audit_mark(sessionmaker)
    version = await redis.get(VERSION_KEY)
    changes = await _changes(sessionmaker, world["grant_id"])
    for headers, status in ((world["holder_api"], 403), (stranger, 404)):
        for action in ("pause", "revoke"):
            refused = await client.post(
                f"{grant_url}/{action}", headers=headers, json={"reason": "越权变更"}
            )
            assert refused.status_code == status, refused.text
    shown = await client.get(grant_url, headers=world["provider_api"])
    assert shown.json()["status"] == "active"
    assert await _changes(sessionmaker, world["grant_id"]) == changes
    assert await audited_since(sessionmaker, mark, actor="fs-gaj") == []
    assert await audited_since(sessionmaker, mark, actor="sz-gaj") == []
    assert await redis.get(VERSION_KEY) == version


async def _changes(sessionmaker: Sessions, grant_id: str) -> int:
    """The grant's change rows (each written with its event, in one transaction)."""
    async with sessionmaker() as session:
        rows = await session.scalar(
            select(func.count()).select_from(GrantChange).where(GrantChange.grant_id == grant_id)
        )
    return int(rows or 0)


async def test_introspection_counts_uses_shown_on_the_grant(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    token = (await _token(client, world["holder"], SCOPE)).json()["access_token"]
    before = (
        await client.get(f"/v1/grants/{world['grant_id']}", headers=world["holder_api"])
    ).json()
    assert before["use_count"] == 0
    assert before["last_used_at"] is None
    for _ in range(3):
        assert await _active(client, token, world["provider"])
    after = (
        await client.get(f"/v1/grants/{world['grant_id']}", headers=world["holder_api"])
    ).json()
    assert after["use_count"] == 3
    assert after["last_used_at"] is not None


async def test_the_job_expires_grants_past_their_window(
    app: FastAPI, sessionmaker: Sessions, world: dict[str, Any]
) -> None:
    async with sessionmaker() as session:
        past = utcnow() - timedelta(seconds=1)
        await session.execute(
            update(Grant)
            .where(Grant.id == world["grant_id"])
            .values(starts_at=past - timedelta(days=1), ends_at=past)
        )
        await session.commit()

    await sla.run_once(sessionmaker, policy=app.state.routing_policy, links=LINKS)

    async with sessionmaker() as session:
        grant = await session.get(Grant, world["grant_id"])
    assert grant is not None
    assert grant.status == "expired"
    assert (await _events(sessionmaker, world["grant_id"]))[-1] == "expired"


async def test_concurrent_introspections_are_each_counted_once_and_revocation_still_bites(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    token = (await _token(client, world["holder"], SCOPE)).json()["access_token"]
    grant_url = f"/v1/grants/{world['grant_id']}"
    # Many at once, a few per connection of the pool: each is counted once.
    answers = await asyncio.gather(*(_active(client, token, world["provider"]) for _ in range(40)))
    assert all(answers)
    shown = (await client.get(grant_url, headers=world["holder_api"])).json()
    assert shown["use_count"] == 40
    assert (await client.post(f"{grant_url}/pause", headers=world["provider_api"])).is_success
    assert not await _active(client, token, world["provider"])
    shown = (await client.get(grant_url, headers=world["holder_api"])).json()
    assert shown["use_count"] == 40  # an inactive answer is no use
