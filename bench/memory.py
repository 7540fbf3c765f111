"""`bench/memory`: resident memory of the broker and the notifier under load, and of the notifier
holding 10,000 pending retries.

The broker and notifier run as production runs them; the receiver answers 500 to everything, and
the retry schedule is long (WEBHOOK_RETRY_SCHEDULE=3600,...), so every delivery, once tried,
waits as a pending retry. The approval tasks are copies of a real one (filed through the API,
one per approving CDO), added to the outbox directly so that the notifier's side gets its
10,000 in a few minutes whatever the filing rate of the machine; the relay publishes them as any
other. The floor is each process's own resident set once started and idle: imports, pools and
clients, before any work.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import time
import uuid
from typing import Any

import asyncpg
import httpx
from sqlalchemy import insert, select

from bench import clients, report
from bench.environment import Environment, fresh_database, state_dir
from bench.sampling import sampling
from core.clock import utcnow
from core.db import create_engine, create_sessionmaker
from core.models.outbox import OutboxEvent, shard_of
from testing import workloads
from testing.processes import VENV_BIN, broker_argv, free_port, running
from testing.waiting import wait_until


async def _copy_tasks(environment: Environment, request_ids: list[str], count: int) -> None:
    """`count` approval tasks, copies of those of `request_ids` with new event ids."""
    engine = create_engine(environment.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            templates = list(
                await session.scalars(
                    select(OutboxEvent).where(
                        OutboxEvent.subject.in_(request_ids),
                        OutboxEvent.type.like("%approval.requested"),
                    )
                )
            )
            rows: list[dict[str, Any]] = []
            for i in range(count):
                template = templates[i % len(templates)]
                data = copy.deepcopy(template.data)
                data["request_id"] = f"{template.subject}-copy-{i}"
                rows.append(
                    {
                        "event_id": str(uuid.uuid4()),
                        "topic": template.topic,
                        "key": template.key,
                        "shard": shard_of(template.key),
                        "type": template.type,
                        "source": template.source,
                        "subject": data["request_id"],
                        "data": data,
                        "traceparent": template.traceparent,
                        "created_at": utcnow(),
                        "attempts": 0,
                    }
                )
            for start in range(0, len(rows), 1000):
                await session.execute(insert(OutboxEvent), rows[start : start + 1000])
            await session.commit()
    finally:
        await engine.dispose()


async def _pending(environment: Environment) -> int:
    connection = await asyncpg.connect(
        host=environment.pg_host,
        port=environment.pg_port,
        user="cdo",
        password="cdo",
        database=environment.database,
    )
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending' AND attempts >= 1"
            )
        )
    finally:
        await connection.close()


async def main(opts: argparse.Namespace) -> None:
    environment = Environment()
    logs = state_dir("logs")
    print(f"bench/memory: fresh database {environment.database}")
    await fresh_database(environment)
    orgs = workloads.requesters(opts.requesters)
    approvers = sorted({workloads.first_approver_of(org) for org in orgs})
    made = await clients.create_clients(
        environment, dict.fromkeys([*orgs, *approvers], clients.CALLER_SCOPES)
    )
    env = environment.server_env(
        NOTIFIER_GROUP_ID=f"cdo-bench-memory-{uuid.uuid4().hex[:8]}",
        WEBHOOK_RETRY_SCHEDULE="3600,3600,3600",
        NOTIFIER_HTTP_PORT=str(free_port()),
    )
    port, receiver_port = free_port(), free_port()
    url, receiver = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{receiver_port}"
    receiver_argv = [
        str(VENV_BIN / "python"),
        "-m",
        "bench.receiver",
        "--port",
        str(receiver_port),
        "--status",
        "500",
    ]
    figures: dict[str, Any] = {}
    async with (
        running("receiver", receiver_argv, env, logs, ready_url=f"{receiver}/count"),
        running("broker", broker_argv(port), env, logs, ready_url=f"{url}/healthz") as broker,
        running("notifier", [str(VENV_BIN / "cdo-broker"), "notifier"], env, logs) as notifier,
    ):
        pids = {"broker": broker.pid, "notifier": notifier.pid}
        await asyncio.sleep(opts.idle)  # settle after start-up: this is the floor
        async with sampling(pids) as idle:
            await asyncio.sleep(1)
        figures["idle"] = dict(idle.peak)
        async with sampling(pids) as rss, httpx.AsyncClient(base_url=url) as http:
            filed = []
            for org in approvers:
                bearer = await clients.token(http, made[org], "webhooks:manage")
                answer = await http.put(
                    "/v1/webhooks/endpoint",
                    json={"url": f"{receiver}/hook/{org}"},
                    headers={"Authorization": f"Bearer {bearer}"},
                )
                answer.raise_for_status()
            for org in orgs:
                bearer = await clients.token(http, made[org])
                answer = await http.post(
                    "/v1/requests",
                    json=workloads.body("bench memory"),
                    headers={"Authorization": f"Bearer {bearer}"},
                )
                answer.raise_for_status()
                filed.append(answer.json()["id"])

            async def first_retry_waits() -> bool:
                return await _pending(environment) >= len(filed)

            await wait_until(first_retry_waits, limit_s=120, what="the first failed deliveries")
            started = time.monotonic()
            await _copy_tasks(environment, filed, opts.retries)
            target: int = opts.retries + len(filed)
            last_print = 0.0

            async def all_pending() -> bool:
                nonlocal last_print
                pending = await _pending(environment)
                if time.monotonic() - last_print > 15:
                    print(f"  {pending} of {target} deliveries failed once and wait")
                    last_print = time.monotonic()
                return pending >= target

            await wait_until(all_pending, limit_s=opts.limit, what=f"{target} pending retries")
            figures["seconds_to_pending"] = round(time.monotonic() - started, 1)
        figures["peak_under_load"] = dict(rss.peak)
        async with sampling(pids) as holding:
            await asyncio.sleep(3)
        figures["holding_retries"] = dict(holding.last)
        figures["pending_retries"] = await _pending(environment)

    idle, peak, holding = figures["idle"], figures["peak_under_load"], figures["holding_retries"]
    report.header("resident memory (RSS)", ("measured", "idle floor", "ratio"))
    for name in ("broker", "notifier"):
        print(
            report.line(
                f"{name}: peak while delivering",
                report.mib(peak[name]),
                report.mib(idle[name]),
                f"{peak[name] / idle[name]:.2f}x",
            )
        )
    print(
        report.line(
            f"notifier holding {figures['pending_retries']:,} retries",
            report.mib(holding["notifier"]),
            report.mib(idle["notifier"]),
            f"{holding['notifier'] / idle['notifier']:.2f}x",
        )
    )
    print(f"  ({figures['seconds_to_pending']}s to try {target:,} deliveries once)")
    report.save("memory", {"machine": report.machine(), "settings": vars(opts), "figures": figures})


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--retries", type=int, default=10_000, help="deliveries made to wait")
    parser.add_argument("--requesters", type=int, default=10)
    parser.add_argument("--idle", type=float, default=5, help="seconds idle before the floor")
    parser.add_argument("--limit", type=float, default=1200, help="seconds allowed to get there")
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
