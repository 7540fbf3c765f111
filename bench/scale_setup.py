"""The two databases `bench/scale` compares: the pilot with no history (the baseline), and the
province with years of history, each in a database of its own on the bench's stack."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import date

import asyncpg

from bench.environment import Environment, fresh_database
from broker.migrate import upgrade
from broker.seed.history.load import seed_history
from broker.seed.province_load import seed_province
from core.clock import utcnow
from core.db import create_engine

PILOT_DATABASE = "cdo_broker_bench_scale_pilot"
PROVINCE_DATABASE = "cdo_broker_bench_scale_province"


async def pilot_environment() -> Environment:
    """The pilot directory and catalog, and nothing else: what every figure so far ran on."""
    environment = replace(Environment(), database=PILOT_DATABASE)
    await fresh_database(environment)
    return environment


async def province_environment(
    *, requests: int, years: float, seed: int, reuse: bool
) -> tuple[Environment, dict[str, float]]:
    """The province with `requests` requests over `years`; with `reuse`, an earlier run's
    database of that size is taken as it is (its generation takes minutes)."""
    environment = replace(Environment(), database=PROVINCE_DATABASE)
    if reuse and await _history_size(environment) == requests:
        # Migrated to this tree's newest revision: a revision may have come since.
        await asyncio.to_thread(upgrade, environment.database_url)
        return environment, {}
    timings: dict[str, float] = {}
    await fresh_database(environment)
    engine = create_engine(environment.database_url)
    try:
        sessions = environment.sessionmaker(engine)
        started = time.perf_counter()
        async with sessions() as session:
            await seed_province(session, seed=seed, as_of=date.today())
            await session.commit()
        timings["seed-province s"] = time.perf_counter() - started
        started = time.perf_counter()
        async with sessions() as session:
            counts = await seed_history(
                session, requests=requests, years=years, seed=seed, until=utcnow()
            )
            await session.commit()
        timings["seed-history s"] = time.perf_counter() - started
        timings["requests written"] = counts["rows.requests"]
        async with engine.begin() as connection:
            await connection.exec_driver_sql(
                f"COMMENT ON DATABASE {environment.database} IS 'bench/scale history {requests}'"
            )
            await connection.exec_driver_sql("ANALYZE")
    finally:
        await engine.dispose()
    return environment, timings


async def _history_size(environment: Environment) -> int | None:
    """The history size an earlier run wrote into this database, if it exists."""
    try:
        connection = await environment.connect()
    except (OSError, asyncpg.PostgresError):  # no such database yet: nothing to reuse
        return None
    try:
        comment = await connection.fetchval(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
            environment.database,
        )
    finally:
        await connection.close()
    prefix = "bench/scale history "
    return int(comment.removeprefix(prefix)) if comment and comment.startswith(prefix) else None
