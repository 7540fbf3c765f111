"""`bench/run filing_cpu`: CPU, SQL statements, database and Redis round trips per filing, in one
process.

The app is driven through httpx's ASGI transport with its relay and SLA job off and its grant
feed polling once a minute, so the figures are filing's own work without the HTTP server or the
background tasks: on a shared machine this is far steadier than a throughput figure. `--traced`
measures it traced as production is (spans batched, then dropped instead of exported). Run it
against another tree with `PYTHONPATH` (see docs/BENCHMARKS.md) to compare two versions.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from typing import Any

import httpx
from opentelemetry import trace
from sqlalchemy import event

from bench import clients
from bench.environment import DroppedSpans, Environment, app_in_process
from bench.token_cpu import Tally
from testing import workloads


async def main(opts: argparse.Namespace) -> None:
    environment = Environment()
    exporter = DroppedSpans() if opts.traced else None
    app = await app_in_process(environment, fresh=opts.fresh, traced=exporter)
    orgs = workloads.requesters(3)
    made = await clients.create_clients(environment, dict.fromkeys(orgs, clients.CALLER_SCOPES))
    statements = transactions = 0
    redis = Tally()
    redis.watch_redis()

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    def sent(connection: Any) -> None:
        # In autocommit mode SQLAlchemy still says "begin" and "commit"; the driver sends neither.
        nonlocal transactions
        if not connection._is_autocommit_isolation():
            transactions += 1

    async with app.router.lifespan_context(app):
        event.listen(app.state.engine.sync_engine, "before_cursor_execute", count)
        event.listen(app.state.engine.sync_engine, "begin", sent)
        event.listen(app.state.engine.sync_engine, "commit", sent)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
            tokens = [await clients.token(http, made[org]) for org in orgs]

            async def one(i: int) -> None:
                answer = await http.post(
                    "/v1/requests",
                    json=workloads.body(f"bench cpu {secrets.token_hex(4)} {i}"),
                    headers={
                        "Authorization": f"Bearer {tokens[i % len(tokens)]}",
                        "Idempotency-Key": secrets.token_hex(8),
                    },
                )
                answer.raise_for_status()

            for i in range(30):  # warm the statement caches
                await one(i)
            statements = transactions = 0
            redis.counts.clear()
            spans = _flushed(exporter)
            cpu, wall = time.process_time(), time.perf_counter()
            for i in range(opts.filings):
                await one(i)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            spans = _flushed(exporter) - spans
    print(
        f"{opts.filings} filings: {1000 * cpu / opts.filings:.1f} ms CPU and"
        f" {1000 * wall / opts.filings:.1f} ms each, {statements / opts.filings:.1f} SQL"
        f" statements each, {(statements + transactions) / opts.filings:.1f} database round trips"
        f" with BEGIN and COMMIT, {redis.counts['redis'] / opts.filings:.1f} Redis round trips"
        + (f", {spans / opts.filings:.1f} spans each" if exporter else "")
    )


def _flushed(exporter: DroppedSpans | None) -> int:
    """The spans exported so far, once those ended are flushed."""
    if exporter is None:
        return 0
    trace.get_tracer_provider().force_flush()  # type: ignore[attr-defined]
    return exporter.spans


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filings", type=int, default=300)
    parser.add_argument("--fresh", action="store_true", help="empty and seed the database first")
    parser.add_argument(
        "--traced", action="store_true", help="traced as production is (spans batched, dropped)"
    )
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
