"""`/metrics` exposes the named series, moving as a scripted run files, decides, lets a step
lapse and introspects. The notifier's series: tests/notifier/test_health_and_metrics.py."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.oauth.clients import create_client
from broker.requests import sla
from core.clock import utcnow
from core.models.requests import RequestStep
from testing.apps import LINKS
from testing.clients import ALL_SCOPES, TokenFactory, bearer, decide, file
from testing.prometheus import series_value
from testing.waiting import wait_until
from testing.workloads import request_body

pytestmark = pytest.mark.integration


async def test_metrics_move_with_a_scripted_run(
    app: FastAPI,
    client: httpx.AsyncClient,
    token_for: TokenFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    before = (await client.get("/metrics")).text
    requester = bearer(await token_for("gz-rsj", ALL_SCOPES))
    provider = bearer(await token_for("gz-gaj", ALL_SCOPES))
    request = (
        await file(client, requester, request_body("gz-gaj-household-migration", ["id_number"]))
    ).json()
    await decide(client, provider, request["id"], decision="approve")
    lapsing = (
        await file(client, requester, request_body("gz-gaj-household-migration", ["name"]))
    ).json()
    async with sessionmaker() as session:
        await session.execute(
            update(RequestStep)
            .where(RequestStep.request_id == lapsing["id"])
            .values(due_at=utcnow() - timedelta(seconds=1))
        )
        introspector, secret = await create_client(
            session, organisation_id="gz-gaj", scope="tokens:introspect"
        )
        await session.commit()
    await sla.run_once(sessionmaker, policy=app.state.routing_policy, links=LINKS)
    introspected = await client.post(
        "/oauth/introspect", data={"token": "not-a-token"}, auth=(introspector.id, secret)
    )
    assert introspected.json() == {"active": False}

    async def backlog_sampled() -> bool:
        # every 10 s; another app in this process over a dead database may have cleared it
        return "\ncdo_outbox_backlog{" in (await client.get("/metrics")).text

    await wait_until(backlog_sampled, limit_s=15, what="the outbox backlog sample")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text
    for series in [
        "cdo_requests_total",
        "cdo_decisions_total",
        "cdo_decision_duration_seconds_bucket",
        "cdo_tokens_total",
        "cdo_introspections_total",
        "cdo_sla_breaches_total",
        "cdo_escalations_total",
        "cdo_outbox_backlog",
        "cdo_outbox_oldest_age_seconds",
    ]:
        assert re.search(rf"^{series}", after, re.M), series
    assert (
        series_value(after, "cdo_requests_total", kind="share", status="pending")
        == series_value(before, "cdo_requests_total", kind="share", status="pending") + 2
    )
    assert series_value(after, "cdo_decisions_total", decision="approve", level="city") >= 1
    assert (
        series_value(after, "cdo_tokens_total", outcome="issued")
        >= series_value(before, "cdo_tokens_total", outcome="issued") + 2
    )
    assert series_value(after, "cdo_sla_breaches_total", level="city") >= 1 + series_value(
        before, "cdo_sla_breaches_total", level="city"
    )
    assert series_value(after, "cdo_escalations_total", to="up") >= 1 + series_value(
        before, "cdo_escalations_total", to="up"
    )
    assert series_value(after, "cdo_introspections_total", active="false") >= 1 + series_value(
        before, "cdo_introspections_total", active="false"
    )
