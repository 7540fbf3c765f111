"""The tokens' standing each broker process keeps (oauth/standing.py): every writer of a grant's
status or window moves the grants' version, before its commit and after it; a standing kept by
one process is refused at once after another process revokes or pauses the grant; without Redis
the standing is read, and the use counted, by one statement as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis import exceptions as redis_errors
from redis.asyncio import Redis
from sqlalchemy import func, select, update

from broker.audit.actor import Actor
from broker.grants.service import change_grant, expire_grants
from broker.oauth.standing import REDIS_INFO, VERSION_KEY, Standing, StandingCache, grants_changing
from core.clock import utcnow
from core.events import GrantEventName
from core.models.audit import AuditEntry
from core.models.grants import Grant, GrantChange
from testing.appeals import appeal, decide_appeal
from testing.apps import broker_with
from testing.clients import (
    ALL_SCOPES,
    GRANTED_AT_FILING,
    ClientAuth,
    Headers,
    Sessions,
    bearer,
    decide,
    file,
    granted_at_filing,
    new_client,
    token_from,
)
from testing.settings import Settings
from testing.workloads import request_body

pytestmark = pytest.mark.integration
NARROWABLE = ("gz-gaj-household-migration", ["id_number", "name", "migration_type"])  # gz-gaj
T0 = datetime(2026, 12, 1, tzinfo=UTC)


def test_a_standing_is_in_force_only_within_its_window_and_if_it_stands() -> None:
    standing = Standing(True, T0, T0 + timedelta(days=1))
    assert standing.in_force(T0)
    assert not standing.in_force(T0 - timedelta(seconds=1))
    assert not standing.in_force(T0 + timedelta(days=1))
    assert Standing(True).in_force(T0)  # no grant: the client's standing alone
    assert not Standing(False, T0, T0 + timedelta(days=1)).in_force(T0)


def test_a_standing_is_kept_per_client_and_grants_at_both_versions() -> None:
    cache = StandingCache()
    key = cache.key("cli_a", {"grt_2", "grt_1"})
    assert key == cache.key("cli_a", {"grt_1", "grt_2"})
    assert cache.get(b"c1 g1", key) is None
    cache.keep(b"c1 g1", key, Standing(True))
    assert cache.get(b"c1 g1", key) == Standing(True)
    assert cache.get(b"c1 g2", key) is None  # the grants moved: dropped
    assert cache.get(None, key) is None  # not known: the statement decides


async def _active(http: httpx.AsyncClient, token: str, provider: ClientAuth) -> bool:
    answer = await http.post("/oauth/introspect", data={"token": token}, auth=provider)
    assert answer.status_code == 200, answer.text
    return bool(answer.json()["active"])


async def _grant_change(
    http: httpx.AsyncClient, changer: ClientAuth, grant_id: str, action: str
) -> None:
    changed = await http.post(
        f"/v1/grants/{grant_id}/{action}",
        headers=bearer(await token_from(http, *changer, "grants:revoke")),
        json={"reason": "核查发现超范围使用"},
    )
    assert changed.status_code == 200, changed.text


async def _version(redis: Redis) -> Any:
    return await redis.get(VERSION_KEY)


async def test_each_pause_resume_and_revocation_moves_the_version(
    client: httpx.AsyncClient, sessionmaker: Sessions, redis: Redis
) -> None:
    holder = await new_client(sessionmaker, "gz-rsj", ALL_SCOPES)
    changer = await new_client(sessionmaker, "gd-rst", "grants:revoke")
    grant_id = await granted_at_filing(client, holder)
    for action in ("pause", "resume", "revoke"):
        before = await _version(redis)
        await _grant_change(client, changer, grant_id, action)
        assert await _version(redis) != before, action


async def test_a_new_grant_moves_nothing(
    client: httpx.AsyncClient, sessionmaker: Sessions, redis: Redis
) -> None:
    holder = await new_client(sessionmaker, "gz-rsj", ALL_SCOPES)
    await redis.set(VERSION_KEY, b"before")
    await granted_at_filing(client, holder)
    assert await _version(redis) == b"before"


async def test_expiry_moves_the_version(
    app: FastAPI, client: httpx.AsyncClient, sessionmaker: Sessions, redis: Redis
) -> None:
    holder = await new_client(sessionmaker, "gz-rsj", ALL_SCOPES)
    grant_id = await granted_at_filing(client, holder)
    past = utcnow() - timedelta(seconds=1)
    async with sessionmaker() as session:
        await session.execute(
            update(Grant).where(Grant.id == grant_id).values(starts_at=past - timedelta(days=1))
        )
        await session.execute(update(Grant).where(Grant.id == grant_id).values(ends_at=past))
        await session.commit()
    before = await _version(redis)
    async with app.state.sessionmaker() as session, session.begin():  # the SLA job's sessions
        assert await expire_grants(session, now=utcnow(), limit=1000) >= 1
    assert await _version(redis) != before
    async with sessionmaker() as session:
        status = await session.scalar(select(Grant.status).where(Grant.id == grant_id))
    assert status == "expired"


async def test_an_appeal_that_widens_a_grant_moves_the_version(
    client: httpx.AsyncClient, as_org: Headers, redis: Redis
) -> None:
    filed = await file(client, await as_org("gz-rsj"), request_body(*NARROWABLE))
    request_id = filed.json()["id"]
    await decide(
        client, await as_org("gz-gaj"), request_id, decision="approve", fields=["id_number"]
    )
    assert (await appeal(client, await as_org("gz-rsj"), request_id)).status_code == 201
    before = await _version(redis)
    wider = await decide_appeal(
        client, await as_org("gz-gov"), request_id, decision="overturn",
        comment="姓名为核验所必需", fields=["id_number", "name"],
    )  # fmt: skip
    assert wider.status_code == 200, wider.text
    assert await _version(redis) != before


async def test_the_version_moves_before_the_commit_and_again_after_it(
    app: FastAPI, redis: Redis
) -> None:
    await redis.set(VERSION_KEY, b"before")
    async with app.state.sessionmaker() as session:
        assert session.info[REDIS_INFO] is not None
        await grants_changing(session)
        moved = await _version(redis)
        assert moved != b"before"
        await grants_changing(session)  # once per transaction before its commit
        assert await _version(redis) == moved
        await session.commit()
    assert await _version(redis) not in (b"before", moved)


async def test_a_kept_standing_is_refused_at_once_after_another_process_changes_the_grant(
    app: FastAPI, settings: Settings, sessionmaker: Sessions
) -> None:
    holder = await new_client(sessionmaker, "gz-rsj", ALL_SCOPES)
    provider = await new_client(sessionmaker, "gd-rst", "tokens:introspect")
    changer = await new_client(sessionmaker, "gd-rst", "grants:revoke")
    async with broker_with(app, settings) as one, broker_with(app, settings) as two:
        grant_id = await granted_at_filing(two, holder)
        token = await token_from(two, *holder, f"dataset:{GRANTED_AT_FILING}:read")
        assert await _active(one, token, provider)  # `one` now keeps its standing
        assert await _active(one, token, provider)
        await _grant_change(two, changer, grant_id, "pause")
        assert not await _active(one, token, provider)
        await _grant_change(two, changer, grant_id, "resume")
        assert await _active(one, token, provider)
        await _grant_change(two, changer, grant_id, "revoke")
        assert not await _active(one, token, provider)


async def test_without_redis_the_statement_reads_the_standing_and_counts(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, sessionmaker: Sessions
) -> None:
    holder = await new_client(sessionmaker, "gz-rsj", ALL_SCOPES)
    provider = await new_client(sessionmaker, "gd-rst", "tokens:introspect")
    changer = await new_client(sessionmaker, "gd-rst", "grants:revoke")
    grant_id = await granted_at_filing(client, holder)
    token = await token_from(client, *holder, f"dataset:{GRANTED_AT_FILING}:read")
    async with broker_with(app, settings, redis_url=None) as dark:
        assert await _active(dark, token, provider)
        assert await _active(dark, token, provider)
        async with sessionmaker() as session:
            uses = await session.scalar(select(Grant.use_count).where(Grant.id == grant_id))
        assert uses == 2
        await _grant_change(client, changer, grant_id, "revoke")
        assert not await _active(dark, token, provider)


async def test_a_change_redis_cannot_announce_fails_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, sessionmaker: Sessions, redis: Redis
) -> None:
    """Redis lost between the caller's admission and the change: the change must not commit
    unseen by the processes keeping its standing, so it raises (the API answers 503) and its
    transaction, like every writer's, ends without a commit: the grant, its change rows and the
    audit log stay as they were, and the version is not moved."""
    holder = await new_client(sessionmaker, "gz-rsj", ALL_SCOPES)
    grant_id = await granted_at_filing(client, holder)
    before = await _version(redis)
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    try:
        async with app.state.sessionmaker() as session:
            session.info[REDIS_INFO] = dead
            with pytest.raises(redis_errors.ConnectionError):
                await change_grant(
                    session, grant_id, actor=Actor(org_id="gd-rst"),
                    action=GrantEventName.paused, reason="核查", now=utcnow(),
                )  # fmt: skip
    finally:
        await dead.aclose()
    async with sessionmaker() as session:
        grant = await session.get(Grant, grant_id)
        assert grant is not None
        assert grant.status == "active"
        changes = await session.scalar(
            select(func.count()).select_from(GrantChange).where(GrantChange.grant_id == grant_id)
        )
        audited = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.subject == grant_id, AuditEntry.action == "grant.paused")
        )
    assert (changes, audited) == (1, 0)  # the row of its issue only
    assert await _version(redis) == before
