"""A broker of its own to fuzz: a fresh schema in the test database with the pilot seeded, a real
`cdo-broker serve` process on it, and real tokens from that process's token endpoint.

Its own schema, because the fuzzer changes what it may (it reclassifies seeded datasets, files
requests, registers webhook endpoints), and the session's other tests must not see that. Its own
process, so that what is fuzzed is the server as deployed (uvicorn, the middleware, the real
HTTP), with no Kafka relay or SLA job to spread its rows further.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest

from broker.audit.keys import audit_keys_from_settings
from broker.migrate import app_role_of
from broker.seed.pilot import load_pilot, seed_pilot
from core.db import create_engine, create_sessionmaker
from testing.clients import bearer, new_client, token_from
from testing.database import drop_schema, in_schema, migrated_schema
from testing.fuzzing import CALLERS, FUZZ_SCHEMA, TALLY, FuzzTarget
from testing.processes import free_port, serving_broker
from testing.settings import Settings


@pytest.fixture(scope="module")
async def fuzz_database(database_url: str, owner_database_url: str) -> AsyncIterator[str]:
    """The schema, made and migrated by the owner; the fuzzed server connects as the app role."""
    role = app_role_of(database_url, owner_database_url)
    await migrated_schema(owner_database_url, FUZZ_SCHEMA, app_role=role)
    try:
        yield in_schema(database_url, FUZZ_SCHEMA)
    finally:
        await drop_schema(owner_database_url, FUZZ_SCHEMA, create=False)


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
        await session.commit()
    clients = {
        name: await new_client(sessions, *caller)
        for name, caller in CALLERS.items()
        if isinstance(caller, tuple)
    }
    await engine.dispose()
    async with serving_broker(env, port), httpx.AsyncClient(base_url=base_url) as http:
        headers: dict[str, dict[str, str]] = {}
        for name, caller in CALLERS.items():
            if isinstance(caller, tuple):
                headers[name] = bearer(await token_from(http, *clients[name]))
            else:
                headers[name] = {"Authorization": caller} if caller else {}
        yield FuzzTarget(base_url, headers)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    summary = terminalreporter.config.stash.get(TALLY, None)
    if summary is not None:
        terminalreporter.write_line(summary())
