"""Shared fixtures: a freshly migrated PostgreSQL test database, the seeded pilot, the app.

Integration tests need the local stack (`deploy/local/test` starts it and sets
TEST_DATABASE_URL, REDIS_URL and KAFKA_BOOTSTRAP_SERVERS).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.app import create_app
from broker.audit.keys import audit_keys_from_settings
from broker.migrate import app_role_of
from broker.seed.pilot import load_pilot, seed_pilot
from core.db import create_engine, create_sessionmaker
from testing.apps import BASE_URL
from testing.clients import ALL_SCOPES, Headers, TokenFactory, bearer, new_client, token_from
from testing.database import migrated_schema
from testing.kafka import Tail, open_tail
from testing.organisations import first_seeded
from testing.settings import Settings
from testing.stacks import KafkaSwitch, Stack


def _require_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the suite with deploy/local/test", pytrace=False)
    return value


@pytest.fixture(scope="session")
def database_url() -> str:
    return _require_env("TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def owner_database_url() -> str:
    """The test database as its owner, who migrates it (the app's role may not change audit
    rows, nor create schemas)."""
    return _require_env("TEST_MIGRATION_DATABASE_URL")


@pytest.fixture(scope="session")
async def migrated(database_url: str, owner_database_url: str) -> str:
    role = app_role_of(database_url, owner_database_url)
    assert role is not None, "the tests must connect as another role than the owner"
    await migrated_schema(owner_database_url, app_role=role)
    return database_url


@pytest.fixture(scope="session")
def settings(migrated: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings.model_validate(
        {
            "DATABASE_URL": migrated,
            "REDIS_URL": _require_env("REDIS_URL"),
            "KAFKA_BOOTSTRAP_SERVERS": _require_env("KAFKA_BOOTSTRAP_SERVERS"),
            "OAUTH_ISSUER": BASE_URL,
            "BROKER_DEV_KEY_DIR": str(tmp_path_factory.mktemp("keys")),
            # Every process of the run (the app here, `cdo-broker` commands) keys the audit
            # chain with this one, as every process of a deployment must.
            "AUDIT_KEY": _require_env("AUDIT_KEY"),
            # Tests run SLA passes themselves (sla.run_once): a background pass of the shared app
            # could take a step a test just made overdue, and its span, between two lines.
            # tests/broker/requests/test_escalation.py runs the job in brokers of its own.
            "SLA_JOB": "false",
        }
    )


@pytest.fixture(scope="session")
async def sessionmaker(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings.database_url)
    yield create_sessionmaker(engine, audit_keys=audit_keys_from_settings(settings))
    await engine.dispose()


@pytest.fixture(scope="session")
async def owner_sessionmaker(
    migrated: str, owner_database_url: str, settings: Settings
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions as the database's owner: what tests that tamper with the audit log need."""
    engine = create_engine(owner_database_url)
    yield create_sessionmaker(engine, audit_keys=audit_keys_from_settings(settings))
    await engine.dispose()


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    """A client of the stack's Redis, as the broker's."""
    assert settings.redis_url
    client = Redis.from_url(settings.redis_url)
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
async def seeded(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, object]:
    data = load_pilot()
    async with sessionmaker() as session:
        await seed_pilot(session, data)
        await session.commit()
    return data


@pytest.fixture(scope="session")
async def app(settings: Settings, seeded: object) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


@pytest.fixture(scope="session")
def token_for(
    sessionmaker: async_sessionmaker[AsyncSession], client: httpx.AsyncClient
) -> TokenFactory:
    """A real token from the real token endpoint, for a new client of `org_id`."""

    async def make(org_id: str, scope: str) -> str:
        client_id, secret = await new_client(sessionmaker, org_id, scope)
        return await token_from(client, client_id, secret, scope)

    return make


@pytest.fixture(scope="session")
def as_org(token_for: TokenFactory) -> Headers:
    """Authorization headers for an organisation's system, one token per org per session."""
    cache: dict[str, dict[str, str]] = {}

    async def headers(org_id: str) -> dict[str, str]:
        if org_id not in cache:
            cache[org_id] = bearer(await token_for(org_id, ALL_SCOPES))
        return cache[org_id]

    return headers


@pytest.fixture(scope="session")
def city_department(seeded: dict[str, object]) -> str:
    """A pilot city department: the usual caller in these tests."""
    return first_seeded(seeded, kind="department", level="city", pilot=True)


@pytest.fixture(scope="session")
def province_bureau(seeded: dict[str, object]) -> str:
    return first_seeded(seeded, kind="data_bureau", level="province")


@pytest.fixture
async def tail(settings: Settings) -> AsyncIterator[Tail]:
    """What `datashare.requests` receives from now on."""
    assert settings.kafka_bootstrap_servers
    async with open_tail(settings.kafka_bootstrap_servers) as opened:
        yield opened


@pytest.fixture
async def kafka() -> AsyncIterator[KafkaSwitch]:
    """Stops and starts the stack's Kafka; whatever happens, it runs again after the test."""
    switch = KafkaSwitch(Stack.default())
    try:
        yield switch
    finally:
        if switch.down:
            await switch.start()
