"""The bench's own database on the shared stack, and the environment its processes run with.

Every bench starts from an empty schema (migrated and seeded), so runs compare: the tables are
as small at the start of each run, whatever earlier runs left.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from broker.seed.pilot import load_pilot, seed_pilot
from core.db import create_engine, create_sessionmaker
from testing import REPO_ROOT
from testing.database import migrated_schema
from testing.processes import VENV_BIN
from testing.stacks import Stack

STATE = REPO_ROOT / ".bench"  # logs, keys, profiles, figures of the last runs
_STACK = Stack.default()  # deploy/local/stack with this environment's ports


@dataclass(frozen=True)
class Environment:
    """Where the bench's servers connect (the shared stack, the bench's own database) and the
    environment they run with."""

    pg_host: str = "127.0.0.1"
    pg_port: int = int(os.environ.get("BENCH_PG_PORT", _STACK.pg_port))
    database: str = os.environ.get("BENCH_DATABASE", "cdo_broker_bench")
    redis_url: str = os.environ.get("BENCH_REDIS_URL", f"redis://127.0.0.1:{_STACK.redis_port}/0")
    kafka: str = os.environ.get("BENCH_KAFKA", _STACK.kafka_bootstrap)
    pg_socket_dir: Path = field(
        default_factory=lambda: Path(
            os.environ.get("BENCH_PG_SOCKET_DIR", str(_STACK.state_dir / "postgres" / "run"))
        )
    )

    @property
    def database_url(self) -> str:
        return f"postgresql+asyncpg://cdo:cdo@{self.pg_host}:{self.pg_port}/{self.database}"

    def server_env(self, **overrides: str) -> dict[str, str]:
        """What `cdo-broker serve`, the floor and the notifier run with. Limits are raised so the
        limiter still runs (its Redis round trip is part of the cost) but never refuses."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("OTEL_", "WEBHOOK_", "RATE_LIMIT_", "OUTBOX_", "NOTIFIER_"))
        }
        env.update(
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            KAFKA_BOOTSTRAP_SERVERS=self.kafka,
            OAUTH_ISSUER="http://127.0.0.1:8000",
            BROKER_DEV_KEY_DIR=str(STATE / "keys"),
            RATE_LIMIT_PREFIX="cdo:bench:rl",
            RATE_LIMIT_SUBMIT="100000000/minute",
            RATE_LIMIT_TOKEN="100000000/minute",
            RATE_LIMIT_INTROSPECT="100000000/minute",
            NOTIFIER_GROUP_ID="cdo-bench-notifier",
            NOTIFIER_START_AT="latest",
            WEBHOOK_ALLOW_PRIVATE_URLS="true",
            PYTHONUNBUFFERED="1",
        )
        env.update(overrides)
        return env

    async def connect(self, database: str | None = None) -> asyncpg.Connection:
        """A plain connection to the bench's database (or `database`) as `cdo`."""
        return await asyncpg.connect(
            host=self.pg_host,
            port=self.pg_port,
            user="cdo",
            password="cdo",
            database=database or self.database,
        )

    def sessionmaker(self, engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
        """Sessions that may write audit rows, keyed as the bench's servers key them."""
        from broker.audit.keys import audit_keys_from_settings
        from broker.settings import BrokerSettings

        settings = BrokerSettings.model_validate(self.server_env())
        return create_sessionmaker(engine, audit_keys=audit_keys_from_settings(settings))


async def _database_exists(environment: Environment) -> bool:
    try:
        connection = await environment.connect("postgres")
    except (OSError, asyncpg.PostgresError) as exc:
        raise SystemExit(
            f"bench: PostgreSQL at {environment.pg_host}:{environment.pg_port}: {exc}"
        ) from exc
    try:
        found = await connection.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", environment.database
        )
        can_create = await connection.fetchval(
            "SELECT rolcreatedb FROM pg_roles WHERE rolname = current_user"
        )
        if not found and can_create:
            await connection.execute(f'CREATE DATABASE "{environment.database}"')
            return True
    finally:
        await connection.close()
    return bool(found)


def _create_database_as_postgres(environment: Environment) -> None:
    """The `cdo` role of the local stack may not create databases; the postgres OS user can."""
    psql = shutil.which("psql") or "psql"
    subprocess.run(
        [
            "runuser",
            "-u",
            "postgres",
            "--",
            psql,
            "-h",
            str(environment.pg_socket_dir),
            "-p",
            str(environment.pg_port),
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            f'CREATE DATABASE "{environment.database}" OWNER cdo',
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


async def fresh_database(environment: Environment) -> None:
    """An empty, migrated and seeded bench database."""
    if not await _database_exists(environment):
        _create_database_as_postgres(environment)
    await migrated_schema(environment.database_url)
    engine = create_engine(environment.database_url)
    try:
        async with environment.sessionmaker(engine)() as session:
            await seed_pilot(session, load_pilot())
            await session.commit()
    finally:
        await engine.dispose()


class DroppedSpans(SpanExporter):
    """Takes the batches and drops them, counting the spans: tracing as production configures
    it (`configure_tracing`'s batch processor) without the export's encoding and network."""

    def __init__(self) -> None:
        self.spans = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans += len(spans)
        return SpanExportResult.SUCCESS


async def app_in_process(
    environment: Environment, *, fresh: bool, traced: DroppedSpans | None = None
) -> FastAPI:
    """The broker's app on the bench database, to drive in this process through httpx's ASGI
    transport, with no relay, no SLA job and the grant feed polling as seldom as it may: what
    is measured is the calls' own work (the feed's poll, every 0.5 s by default, is a BEGIN and
    a SELECT that the tallies would count with the calls). Traced into `traced` if given, as
    production is traced (the benches' servers run with tracing off)."""
    if fresh:
        await fresh_database(environment)
    os.environ.update(
        environment.server_env(SLA_JOB="false", OUTBOX_RELAY="false", GRANT_FEED_POLL_INTERVAL="60")
    )
    from broker.app import create_app  # reads the environment just set
    from broker.settings import BrokerSettings

    if traced is None:
        return create_app(BrokerSettings())
    from core.telemetry import configure_tracing

    provider = configure_tracing("cdo-broker", exporter=traced)
    return create_app(BrokerSettings(), tracer_provider=provider)


def floor_argv(module: str, port: int, template: str = "") -> list[str]:
    """A floor's server (`bench.raw_floor`, `bench.floor_app`) on `port`; `template`: the
    request filed by the broker whose rows its filings copy."""
    argv = [str(VENV_BIN / "python"), "-m", module, "--port", str(port)]
    return [*argv, "--template", template] if template else argv


def state_dir(name: str) -> Path:
    path = STATE / name
    path.mkdir(parents=True, exist_ok=True)
    return path
