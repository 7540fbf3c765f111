"""A broker of its own to fuzz: a fresh schema in the test database with the pilot seeded, a real
`cdo-broker serve` process on it, and real tokens from that process's token endpoint.

Its own schema, because the fuzzer changes what it may (it reclassifies seeded datasets, files
requests, registers webhook endpoints), and the session's other tests must not see that. Its own
process, so that what is fuzzed is the server as deployed (uvicorn, the middleware, the real
HTTP), with no Kafka relay or SLA job to spread its rows further.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import text

from broker.audit.keys import audit_keys_from_settings
from broker.kit.db import create_engine, create_sessionmaker
from broker.migrate import app_role_of, upgrade
from broker.oauth.clients import create_client
from broker.oauth.scopes import Scope
from broker.seed.pilot import load_pilot, seed_pilot
from broker.settings import Settings
from tests.conftest import bearer, in_schema
from tests.ports import free_port, serving_broker

FUZZ_SCHEMA = "fuzz"
TALLY = pytest.StashKey[Callable[[], str]]()  # the fuzz run's summary line, once it ran
EVERY_SCOPE = " ".join(scope.value for scope in Scope)

# Who calls, one chosen per generated case: authorised callers most of the time, and callers
# that must be refused (401 without or with a forged token, 403 without the scope).
CALLERS: dict[str, tuple[str, str] | str | None] = {
    "provincial-bureau": ("gd-dsb", EVERY_SCOPE),  # the scheme's widest authority
    "city-department": ("gz-rsj", EVERY_SCOPE),  # an ordinary requester and provider
    "reader-only": ("gz-gaj", Scope.requests_read.value),
    "no-token": None,
    "forged-token": "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl",
}


@dataclass(frozen=True)
class FuzzTarget:
    base_url: str
    headers: dict[str, dict[str, str]]  # per caller name


@pytest.fixture(scope="module")
async def fuzz_database(database_url: str, owner_database_url: str) -> AsyncIterator[str]:
    """The schema, made and migrated by the owner; the fuzzed server connects as the app role."""
    engine = create_engine(owner_database_url)
    async with engine.begin() as connection:
        await connection.execute(text(f"DROP SCHEMA IF EXISTS {FUZZ_SCHEMA} CASCADE"))
        await connection.execute(text(f"CREATE SCHEMA {FUZZ_SCHEMA}"))
    role = app_role_of(database_url, owner_database_url)
    await asyncio.to_thread(upgrade, in_schema(owner_database_url, FUZZ_SCHEMA), app_role=role)
    try:
        yield in_schema(database_url, FUZZ_SCHEMA)
    finally:
        async with engine.begin() as connection:
            await connection.execute(text(f"DROP SCHEMA IF EXISTS {FUZZ_SCHEMA} CASCADE"))
        await engine.dispose()


@pytest.fixture(scope="module")
async def fuzz_target(
    fuzz_database: str, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FuzzTarget]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if key != "KAFKA_BOOTSTRAP_SERVERS"} | {
        "DATABASE_URL": fuzz_database,
        "OAUTH_ISSUER": base_url,
        "BROKER_DEV_KEY_DIR": str(tmp_path_factory.mktemp("fuzz-keys")),
        "OUTBOX_RELAY": "false",
        "SLA_JOB": "false",
        "RATE_LIMIT_PREFIX": f"fuzz:{secrets.token_hex(6)}",  # counters no other run shares
    }
    engine = create_engine(fuzz_database)
    sessions = create_sessionmaker(engine, audit_keys=audit_keys_from_settings(settings))
    async with sessions() as session:
        await seed_pilot(session, load_pilot())
        clients = {}
        for name, caller in CALLERS.items():
            if isinstance(caller, tuple):
                org_id, scope = caller
                clients[name] = await create_client(session, organisation_id=org_id, scope=scope)
        await session.commit()
    await engine.dispose()
    process = await serving_broker(env, port)
    try:
        headers: dict[str, dict[str, str]] = {}
        async with httpx.AsyncClient(base_url=base_url) as http:
            for name, caller in CALLERS.items():
                if isinstance(caller, tuple):
                    oauth_client, secret = clients[name]
                    answer = await http.post(
                        "/oauth/token",
                        data={"grant_type": "client_credentials"},
                        auth=(oauth_client.id, secret),
                    )
                    assert answer.status_code == 200, answer.text
                    headers[name] = bearer(answer.json()["access_token"])
                else:
                    headers[name] = {"Authorization": caller} if caller else {}
        yield FuzzTarget(base_url, headers)
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 15)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    summary = terminalreporter.config.stash.get(TALLY, None)
    if summary is not None:
        terminalreporter.write_line(summary())
