"""`bench/run token_cpu`: CPU, SQL statements and Redis round trips per token and introspection,
in one process.

The app is driven through httpx's ASGI transport with its relay and SLA job off and its grant
feed polling once a minute, one call at a time, so the figures are each endpoint's own work
without the HTTP server or contention: steady on a shared machine, and the round trips are the
ones a call waits for in sequence. "Database round trips" adds to the statements the
transaction's BEGIN and COMMIT and the pool's pre-ping at checkout, which SQLAlchemy's asyncpg
dialect sends as three (BEGIN, an empty query, ROLLBACK).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from redis.asyncio.client import Pipeline, Redis
from sqlalchemy import event

from bench import clients
from bench.environment import Environment, app_in_process
from testing import workloads


class Tally:
    """What one process sends to PostgreSQL and Redis, by kind."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def watch_engine(self, engine: Any) -> None:
        def statement(*_: Any) -> None:
            self.counts["sql"] += 1

        def kind(name: str) -> Callable[..., None]:
            def count(*_: Any) -> None:
                self.counts[name] += 1

            return count

        def sent(name: str) -> Callable[..., None]:
            counted = kind(name)

            def count(connection: Any) -> None:
                # In autocommit mode SQLAlchemy still says "begin" and "commit"; the driver sends
                # neither.
                if not connection._is_autocommit_isolation():
                    counted()

            return count

        event.listen(engine, "before_cursor_execute", statement)
        event.listen(engine, "begin", sent("begin"))
        event.listen(engine, "commit", sent("commit"))
        ping = engine.dialect.do_ping
        counted = kind("ping")

        def do_ping(connection: Any) -> bool:
            counted()
            return bool(ping(connection))

        engine.dialect.do_ping = do_ping  # a pool pre-ping, if one is configured

    def watch_redis(self) -> None:
        command = Redis.execute_command
        pipeline = Pipeline.execute

        async def counted_command(redis: Redis, *args: Any, **options: Any) -> Any:
            self.counts["redis"] += 1
            return await command(redis, *args, **options)  # type: ignore[no-untyped-call]

        async def counted_pipeline(pipe: Pipeline, *args: Any, **options: Any) -> Any:
            self.counts["redis"] += 1
            return await pipeline(pipe, *args, **options)

        Redis.execute_command = counted_command  # type: ignore[method-assign,assignment]
        Pipeline.execute = counted_pipeline  # type: ignore[method-assign,assignment]

    def per_call(self, calls: int) -> str:
        database = (
            # A pre-ping over asyncpg is three round trips: BEGIN, an empty query, ROLLBACK.
            sum(self.counts[k] for k in ("sql", "begin", "commit")) + 3 * self.counts["ping"]
        )
        return (
            f"{database / calls:.1f} database round trips ({self.counts['sql'] / calls:.1f}"
            f" statements), {self.counts['redis'] / calls:.1f} Redis round trips"
        )


async def _measure(
    label: str, calls: int, one: Callable[[int], Awaitable[None]], tally: Tally
) -> None:
    for i in range(20):  # warm the statement caches
        await one(i)
    tally.counts.clear()
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(calls):
        await one(i)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"{label}: {1000 * cpu / calls:.2f} ms CPU, {1000 * wall / calls:.2f} ms each;"
        f" {tally.per_call(calls)}"
    )


async def main(opts: argparse.Namespace) -> None:
    environment = Environment()
    app = await app_in_process(environment, fresh=opts.fresh)
    orgs = workloads.requesters(3)
    made, introspector = await clients.callers_and_introspector(environment, orgs)
    callers = list(made.values())
    tally = Tally()
    tally.watch_redis()
    grant_scope = clients.GRANT_SCOPE
    async with app.router.lifespan_context(app):
        tally.watch_engine(app.state.engine.sync_engine)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
            grant_tokens = []
            for client in callers:
                await clients.file_for_grant(http, client)
                grant_tokens.append(await clients.token(http, client, grant_scope))

            def token_call(scope: str) -> Callable[[int], Awaitable[None]]:
                async def one(i: int) -> None:
                    client = callers[i % len(callers)]
                    answer = await http.post(
                        "/oauth/token",
                        data={"grant_type": "client_credentials", "scope": scope},
                        auth=(client.client_id, client.secret),
                    )
                    answer.raise_for_status()

                return one

            async def introspection(i: int) -> None:
                answer = await http.post(
                    "/oauth/introspect",
                    data={"token": grant_tokens[i % len(grant_tokens)]},
                    auth=(introspector.client_id, introspector.secret),
                )
                answer.raise_for_status()
                if not answer.json()["active"]:
                    raise SystemExit("bench: a grant token was inactive")

            await _measure(
                "client-credentials token",
                opts.calls,
                token_call("requests:submit requests:read"),
                tally,
            )
            await _measure("grant token", opts.calls, token_call(grant_scope), tally)
            await _measure("introspection", opts.calls, introspection, tally)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="calls per endpoint")
    parser.add_argument("--fresh", action="store_true", help="empty and seed the database first")
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
