"""Shared fixtures: a freshly migrated PostgreSQL test database, the seeded pilot, the app.

Integration tests need the local stack (`deploy/local/test` starts it and sets
TEST_DATABASE_URL, REDIS_URL and KAFKA_BOOTSTRAP_SERVERS).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.app import create_app
from broker.audit.keys import audit_keys_from_settings
from broker.kit.db import create_engine, create_sessionmaker
from broker.migrate import app_role_of, upgrade
from broker.oauth.clients import create_client
from broker.requests.links import Links
from broker.seed.pilot import load_pilot, seed_pilot
from broker.settings import Settings
from tests.ports import free_port
from tests.waiting import wait_until

pytest_plugins = ["tests.kafka"]  # the `tail` and `kafka` fixtures

BASE_URL = "http://localhost"  # loopback, so authlib accepts plain http in tests
LINKS = Links(api_base=BASE_URL, console_base=f"{BASE_URL}/console")  # as the settings say


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
    engine = create_engine(owner_database_url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    role = app_role_of(database_url, owner_database_url)
    assert role is not None, "the tests must connect as another role than the owner"
    # alembic runs its own event loop
    await asyncio.to_thread(upgrade, owner_database_url, app_role=role)
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


TokenFactory = Callable[..., Awaitable[str]]


@pytest.fixture(scope="session")
def token_for(
    sessionmaker: async_sessionmaker[AsyncSession], client: httpx.AsyncClient
) -> TokenFactory:
    """A real token from the real token endpoint, for a new client of `org_id`."""

    async def make(org_id: str, scope: str) -> str:
        async with sessionmaker() as session:
            oauth_client, secret = await create_client(session, organisation_id=org_id, scope=scope)
            await session.commit()
        response = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": scope},
            auth=(oauth_client.id, secret),
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    return make


def in_schema(database_url: str, schema: str) -> str:
    """The same database with `schema` alone on the search path. The test role may not create
    databases, and asyncpg takes a server setting such as search_path only from a DSN's query,
    so the URL hands asyncpg a DSN."""
    dsn = make_url(database_url).set(drivername="postgresql")
    return f"postgresql+asyncpg:///?dsn={dsn.render_as_string(hide_password=False)}" + (
        f"?search_path={schema}"
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


REPO_ROOT = Path(__file__).resolve().parent.parent


def _first(data: dict[str, object], **wanted: object) -> str:
    organisations = data["organisations"]
    assert isinstance(organisations, list)
    for org in organisations:
        if all(org.get(key) == value for key, value in wanted.items()):
            return str(org["id"])
    raise LookupError(f"no seeded organisation with {wanted}")


@pytest.fixture(scope="session")
def city_department(seeded: dict[str, object]) -> str:
    """A pilot city department: the usual caller in these tests."""
    return _first(seeded, kind="department", level="city", pilot=True)


@pytest.fixture(scope="session")
def province_bureau(seeded: dict[str, object]) -> str:
    return _first(seeded, kind="data_bureau", level="province")


@asynccontextmanager
async def broker_with(
    app: FastAPI,
    settings: Settings,
    *,
    tracer_provider: TracerProvider | None = None,
    client_address: str = "127.0.0.1",
    **overrides: Any,
) -> AsyncIterator[httpx.AsyncClient]:
    """Another broker app over the same database with some settings changed (a policy file,
    loopback webhooks, a dead dependency), accepting the suite's tokens, traced into
    `tracer_provider` if one is given, called from `client_address`. Its background jobs are
    off unless asked for, so they do not race the session's own."""
    changed = {"sla_job_enabled": False, "outbox_relay_enabled": False} | overrides
    other = create_app(settings.model_copy(update=changed), tracer_provider=tracer_provider)
    async with other.router.lifespan_context(other):
        other.state.keyring = app.state.keyring
        transport = httpx.ASGITransport(app=other, client=(client_address, 50123))
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            yield http


@asynccontextmanager
async def served_app(settings: Settings, **overrides: Any) -> AsyncIterator[tuple[str, FastAPI]]:
    """Another broker app over the same database, served by uvicorn on a loopback port in this
    process (real HTTP: streams stream), its issuer that URL; yields the URL and the app. Its
    background jobs are off unless asked for, like `broker_with`'s; its grant feed runs."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    changed = {"sla_job_enabled": False, "outbox_relay_enabled": False, "issuer": url}
    served = create_app(settings.model_copy(update=changed | overrides))
    async with served.router.lifespan_context(served):
        config = uvicorn.Config(
            served, host="127.0.0.1", port=port, lifespan="off", log_level="warning"
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        await wait_until(lambda: server.started or task.done(), limit_s=10, what="uvicorn")
        assert server.started, task
        try:
            yield url, served
        finally:
            server.should_exit = True
            await task


@asynccontextmanager
async def served_broker(settings: Settings, **overrides: Any) -> AsyncIterator[str]:
    """`served_app`'s URL."""
    async with served_app(settings, **overrides) as (url, _):
        yield url
