"""The lifecycle's events on Kafka through faults: Kafka down while requests are filed and
decided, and a broker killed with `kill -9` mid-load. Nothing acknowledged is lost; per request
the events arrive once each (by `ce_id`), in lifecycle order, valid against their schemas."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.oauth.clients import create_client
from core.models.outbox import OutboxEvent
from core.models.requests import DataRequest
from testing.clients import ALL_SCOPES, Headers, decide, file
from testing.events import validator_for
from testing.kafka import Record, first_occurrences, header, ids_per_key, open_tail
from testing.processes import free_port, serving_broker
from testing.settings import Settings
from testing.stacks import KafkaSwitch
from testing.waiting import wait_until
from testing.workloads import request_body

pytestmark = [pytest.mark.integration, pytest.mark.stack]
DATASET = "gz-gaj-household-migration"  # one step: gz-gaj decides
LIFECYCLE = ["submitted", "routed", "step_decided", "approved"]


async def _unsent(sessionmaker: async_sessionmaker[AsyncSession], request_ids: list[str]) -> int:
    async with sessionmaker() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.subject.in_(request_ids), OutboxEvent.sent_at.is_(None))
        )
    return count or 0


def _types_per_request(records: list[Record]) -> dict[str, list[str]]:
    by_id = {header(r, "ce_id"): r for r in records}
    return {
        key: [str(header(by_id[i], "ce_type")).rsplit(".", 1)[1] for i in ids]
        for key, ids in first_occurrences(ids_per_key(records)).items()
    }


async def test_kafka_down_delays_every_event_and_loses_none(
    client: httpx.AsyncClient,
    as_org: Headers,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    kafka: KafkaSwitch,
) -> None:
    assert settings.kafka_bootstrap_servers
    requester, provider = await as_org("gz-rsj"), await as_org("gz-gaj")
    async with open_tail(settings.kafka_bootstrap_servers) as tail:
        await kafka.stop()
        ids = []
        for _ in range(200):
            filed = await file(client, requester, request_body(DATASET, ["id_number"]))
            assert filed.status_code == 201, filed.text
            ids.append(filed.json()["id"])
            decided = await decide(client, provider, ids[-1], decision="approve")
            assert decided.json()["status"] == "approved"
        assert await _unsent(sessionmaker, ids) == 200 * (len(LIFECYCLE) + 2)  # + task, grant

        await kafka.start()
        await wait_until(
            lambda: _unsent_zero(sessionmaker, ids),
            limit_s=90,
            what="every event to be published",
        )
        records = await tail.read(ids, within=60)

    assert len({header(r, "ce_id") for r in records}) == len(records), "an event went out twice"
    assert _types_per_request(records) == dict.fromkeys(ids, LIFECYCLE)
    for record in records:
        validator_for(str(header(record, "ce_type"))).validate(_json(record))


async def _unsent_zero(sessionmaker: async_sessionmaker[AsyncSession], ids: list[str]) -> bool:
    return await _unsent(sessionmaker, ids) == 0


def _json(record: Record) -> Any:
    assert record.value is not None
    return json.loads(record.value)


async def test_a_broker_killed_mid_load_loses_nothing_it_acknowledged(
    app: Any,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    """The session's own app (and its relay) stays up as the second broker process."""
    assert settings.kafka_bootstrap_servers
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "DATABASE_URL": settings.database_url,
        "OAUTH_ISSUER": url,
        "BROKER_DEV_KEY_DIR": str(tmp_path / "keys"),
        "SLA_JOB": "false",
    }
    async with serving_broker(env, port) as broker:  # a failure before the kill stops it
        async with sessionmaker() as session:
            oauth_client, secret = await create_client(
                session, organisation_id="gz-rsj", scope=ALL_SCOPES
            )
            await session.commit()

        acknowledged: list[str] = []
        async with (
            open_tail(settings.kafka_bootstrap_servers) as tail,
            httpx.AsyncClient(base_url=url) as http,
        ):
            token = (
                await http.post(
                    "/oauth/token",
                    data={"grant_type": "client_credentials"},
                    auth=(oauth_client.id, secret),
                )
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}

            async def one() -> None:
                try:
                    response = await http.post(
                        "/v1/requests", headers=headers, json=request_body(DATASET, ["name"])
                    )
                except httpx.TransportError:
                    return  # not acknowledged: the broker died first
                if response.status_code == 201:
                    acknowledged.append(response.json()["id"])

            async def load() -> None:
                for _ in range(30):
                    await asyncio.gather(*(one() for _ in range(8)))

            loading = asyncio.create_task(load())
            await wait_until(lambda: len(acknowledged) >= 60, limit_s=60, what="load to build up")
            await broker.kill9()
            await loading

            async with sessionmaker() as session:
                stored = set(
                    await session.scalars(
                        select(DataRequest.id).where(DataRequest.id.in_(acknowledged))
                    )
                )
            assert stored == set(acknowledged)
            await wait_until(
                lambda: _unsent_zero(sessionmaker, acknowledged), limit_s=60, what="relay takeover"
            )
            records = await tail.read(acknowledged, within=60)

    types = _types_per_request(records)
    assert set(types) == set(acknowledged)
    assert all(t == ["submitted", "routed"] for t in types.values())
