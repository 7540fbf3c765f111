"""Real `cdo-broker notifier` processes: a `kill -9` mid-delivery and a restart loses nothing;
two replicas share the work; duplicates, if any, carry the same webhook-id."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from notifier.consumer import TOPICS
from testing.apps import broker_with
from testing.clients import ALL_SCOPES, TokenFactory, bearer
from testing.kafka import group_at_the_end
from testing.processes import Service, module
from testing.receivers import Received, Receiver, Reply, running_receiver
from testing.settings import Settings
from testing.waiting import wait_until
from testing.workloads import request_body

pytestmark = pytest.mark.integration
DATASET = "gd-rst-labour-dispatch-licences"  # unconditional: decided and granted at filing
Start = Callable[[], Awaitable[Service]]


@pytest.fixture
async def notifiers(settings: Settings, tmp_path: Path) -> AsyncIterator[Start]:
    assert settings.kafka_bootstrap_servers
    group = f"test-replicas-{secrets.token_hex(4)}"
    await group_at_the_end(settings.kafka_bootstrap_servers, group, TOPICS)
    env = os.environ | {
        "DATABASE_URL": settings.database_url,
        "NOTIFIER_GROUP_ID": group,
        "WEBHOOK_ALLOW_PRIVATE_URLS": "true",
        "WEBHOOK_RETRY_SCHEDULE": "0.2,0.5,1,1,1",
        "WEBHOOK_TIMEOUT": "2",
        "BROKER_DEV_KEY_DIR": str(settings.dev_key_dir),
    }
    started: list[Service] = []

    async def start() -> Service:
        started.append(Service(f"notifier-{len(started)}", module("cdo_cli", "notifier"), env))
        await started[-1].start()
        return started[-1]

    yield start
    await asyncio.gather(*(notifier.stop(grace_s=30) for notifier in started))


async def _setup(
    client: httpx.AsyncClient,
    app: Any,
    token_for: TokenFactory,
    receiver: Receiver,
    settings: Settings,
) -> dict[str, str]:
    org = "gz-rsj"
    headers = bearer(await token_for(org, ALL_SCOPES + " webhooks:manage"))
    async with broker_with(app, settings, webhook_allow_private_urls=True) as http:
        registered = await http.put(
            "/v1/webhooks/endpoint", headers=headers, json={"url": receiver.url}
        )
        assert registered.status_code in (200, 201), registered.text
    return headers


def _by_event(received: list[Received]) -> dict[tuple[str, str], set[str]]:
    ids: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in received:
        event = json.loads(r.body)
        ids[(event["type"], event["data"]["request_id"])].add(r.headers["webhook-id"])
    return ids


async def _file(client: httpx.AsyncClient, headers: dict[str, str], count: int) -> list[str]:
    ids = []
    for _ in range(count):
        response = await client.post(
            "/v1/requests", headers=headers, json=request_body(DATASET, ["licence_number"])
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def _all_heard(receiver: Receiver, request_ids: list[str]) -> Callable[[], bool]:
    def check() -> bool:
        heard = _by_event(receiver.requests)
        return all(
            ("request.decided", r) in heard and ("grant.issued", r) in heard for r in request_ids
        )

    return check


async def test_kill_9_mid_delivery_and_a_restart_loses_nothing(
    client: httpx.AsyncClient,
    app: Any,
    token_for: TokenFactory,
    settings: Settings,
    notifiers: Start,
) -> None:
    async with running_receiver() as receiver:
        headers = await _setup(client, app, token_for, receiver, settings)
        release = asyncio.Event()

        async def slow(_: Received) -> Reply:
            await release.wait()  # deliveries pile up in flight until the kill
            return Reply(200)

        receiver.handler = slow
        first = await notifiers()
        request_ids = await _file(client, headers, 20)
        await wait_until(
            lambda: len(receiver.requests) >= 2, limit_s=60, what="deliveries in flight"
        )
        await first.kill9()
        release.set()
        receiver.answer(200)
        await notifiers()
        await wait_until(
            _all_heard(receiver, request_ids), limit_s=90, what="every event after the restart"
        )

    for webhook_ids in _by_event(receiver.requests).values():
        assert len(webhook_ids) == 1  # a redelivery is the same webhook


async def test_two_replicas_deliver_everything_once_per_webhook_id(
    client: httpx.AsyncClient,
    app: Any,
    token_for: TokenFactory,
    settings: Settings,
    notifiers: Start,
) -> None:
    async with running_receiver() as receiver:
        headers = await _setup(client, app, token_for, receiver, settings)
        await notifiers()
        await notifiers()
        request_ids = await _file(client, headers, 30)
        await wait_until(_all_heard(receiver, request_ids), limit_s=90, what="every event")

    for webhook_ids in _by_event(receiver.requests).values():
        assert len(webhook_ids) == 1
