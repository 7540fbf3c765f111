"""A real `cdo-broker serve` process for the attacks, and parties holding the seed's demo
clients (the scopes `seed-pilot --clients` gives each kind of body)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from testing.clients import Party, PartyFactory, Sessions, demo_party
from testing.processes import free_port, serving_broker
from testing.settings import Settings


@pytest.fixture(scope="module")
async def served(
    settings: Settings, seeded: object, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """The broker as an operator runs it, over real HTTP on loopback; no background jobs, so
    what the attacks see is what their own calls did."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": str(settings.redis_url),
        "KAFKA_BOOTSTRAP_SERVERS": str(settings.kafka_bootstrap_servers),
        "OAUTH_ISSUER": url,
        "BROKER_DEV_KEY_DIR": str(tmp_path_factory.mktemp("attack-keys")),
        "SLA_JOB": "false",
        "OUTBOX_RELAY": "false",
    }
    async with serving_broker(env, port):
        yield url


@pytest.fixture
async def party(served: str, sessionmaker: Sessions) -> AsyncIterator[PartyFactory]:
    """`await party("gz-dsb")`: that body's system with its demo client's scopes (or `scope`)."""
    made: list[Party] = []

    async def make(org: str, scope: str | None = None) -> Party:
        made.append(await demo_party(served, sessionmaker, org, scope))
        return made[-1]

    yield make
    for each in made:
        await each.http.aclose()
