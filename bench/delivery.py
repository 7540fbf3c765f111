"""`bench/run delivery`: events per second the outbox relay publishes, and webhooks per second
one, two ... `cdo-broker notifier` processes deliver from one stack, against a floor in the same
run.

A backlog is made first, so that neither the filing's pace nor a process's start is in a rate:
each is measured between its first and its last piece of work.

1. `--filings` requests are filed through `cdo-broker serve` with its relay off (bench/submissions'
   filings: each leaves three outbox events, one of them an `approval.requested` webhook to the
   city government CDO that decides the first step; each such CDO's endpoint is the receiver,
   bench/receiver.py, answering 200).
2. **Relay alone**: `cdo-broker relay` (a process of its own) publishes the backlog with nobody
   consuming; events/s from the rows' `sent_at`, first to last; its CPU per event from its first
   batch on.
3. **Delivery**, for each count in `--notifiers`: the delivery rows are emptied; N notifier
   processes start in a new consumer group whose offsets are committed at the topics' ends, and
   once the group has settled (every partition held, each member holding some: their lag gauges)
   the backlog is published again (`sent_at` cleared, the relay started), as in production,
   where the notifiers are running when events come. They record a delivery row per webhook,
   claim, POST and record each attempt. Deliveries/s from the rows' `delivered_at`, first to
   last; the relay's rate as it fed them; the notifiers' CPU per delivery (psutil, from the
   group settling to the last delivery). Every webhook must have been delivered (a row each,
   at least an attempt row and a POST at the receiver each), or the bench stops.
4. **Floor** (bench/kafka_floor.py, run by bench/delivery_floor.py): as many messages produced
   to the floor's topic at `--floor-rate`, consumed by one process that POSTs each to a receiver
   of its own, with as many POSTs in flight as one notifier allows the endpoints, each over a new
   connection (`--close`: httpx's pool walks every connection it keeps alive on each request,
   which made a floor keeping 40 dearer than the notifier; the notifier keeps 2 per name);
   POSTs/s, first to last arrival.

`--profile S` records the first notifier with py-spy for S seconds from the relay's start.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
from collections.abc import Iterable
from contextlib import AsyncExitStack
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench import clients, profile, report
from bench.delivery_floor import counted, drained_floor, per_second
from bench.environment import Environment, fresh_database, state_dir
from bench.outbox import drained, unsent
from bench.sampling import cpu_seconds
from core import topics
from testing import workloads
from testing.processes import VENV_BIN, Service, broker_argv, cli, free_port, running
from testing.waiting import wait_until

NOTIFIED = (topics.APPROVALS, topics.REQUESTS, topics.GRANTS)  # what the notifier consumes
LAG_SERIES = "cdo_notifier_consumer_lag"  # one series per partition a notifier holds
PER_ENDPOINT = 4  # WEBHOOK_CONCURRENCY_PER_ENDPOINT's default, the floor's in-flight share


async def _commit_ends(bootstrap: str, groups: Iterable[str]) -> None:
    """Each group's offsets committed at the notified topics' ends as of now."""
    parts = [TopicPartition(t, p) for t in NOTIFIED for p in range(topics.PARTITIONS[t])]
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await probe.start()
    try:
        ends = await probe.end_offsets(parts)
    finally:
        await probe.stop()
    for group in groups:
        member = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
        await member.start()
        try:
            member.assign(parts)
            await member.commit(ends)
        finally:
            await member.stop()


async def _file_backlog(environment: Environment, opts: argparse.Namespace, receiver: str) -> None:
    orgs = workloads.requesters(10)
    approvers = sorted({workloads.first_approver_of(org) for org in orgs})
    made = await clients.create_clients(
        environment, dict.fromkeys([*orgs, *approvers], clients.CALLER_SCOPES)
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = environment.server_env(SLA_JOB="false", OUTBOX_RELAY="false")
    async with (
        running("broker", broker_argv(port), env, state_dir("logs"), ready_url=f"{url}/healthz"),
        httpx.AsyncClient(base_url=url, timeout=60) as http,
    ):
        for org in approvers:
            registered = await http.put(
                "/v1/webhooks/endpoint",
                json={"url": f"{receiver}/hook/{org}"},
                headers={"Authorization": f"Bearer {await clients.token(http, made[org])}"},
            )
            registered.raise_for_status()
        tokens = [await clients.token(http, made[org]) for org in orgs]
        slots = asyncio.Semaphore(16)

        async def one(i: int) -> None:
            async with slots:
                filed = await http.post(
                    "/v1/requests",
                    json=workloads.body(f"bench delivery {i}"),
                    headers={"Authorization": f"Bearer {tokens[i % len(tokens)]}"},
                )
                filed.raise_for_status()

        await asyncio.gather(*(one(i) for i in range(opts.filings)))
    print(f"  filed {opts.filings} requests for {len(approvers)} deciding CDOs' endpoints")


async def _published(connection: Any) -> dict[str, Any]:
    """How many events the relay sent, and at what rate (first to last `sent_at`)."""
    row = await connection.fetchrow(
        "SELECT count(*) AS n, min(sent_at) AS first, max(sent_at) AS last FROM outbox_events"
    )
    return {"events": row["n"], "per_s": round(per_second(row["n"], row["first"], row["last"]), 1)}


async def _relay(environment: Environment) -> dict[str, Any]:
    """The backlog published by `cdo-broker relay` with nobody consuming it; its CPU per event
    from its first batch on (its start left out)."""
    env = environment.server_env(SLA_JOB="false", OUTBOX_RELAY="true")
    backlog = await unsent(environment)

    async def begun() -> bool:
        return await unsent(environment) < backlog

    before = report.pressure()
    async with running("relay", cli("relay"), env, state_dir("logs")) as relay:
        await wait_until(begun, limit_s=120, what="the relay's first batch", poll_s=0.05)
        cpu_before = cpu_seconds(relay.pid)
        left, _ = await drained(environment, limit_s=600)
        cpu = cpu_seconds(relay.pid) - cpu_before
    connection = await environment.connect()
    try:
        figures = await _published(connection)
    finally:
        await connection.close()
    figures["cpu_ms_per_event"] = round(1000 * cpu / max(1, left), 2)
    figures["machine"] = f"{before} -> {report.pressure()}"
    print(
        f"  relay alone: {figures['events']} events at {figures['per_s']:,.0f}/s,"
        f" {figures['cpu_ms_per_event']} ms CPU each"
    )
    print(f"    {figures['machine']}")
    return figures


async def _deliveries(connection: Any) -> Any:
    return await connection.fetchrow(
        "SELECT count(*) AS n, count(*) FILTER (WHERE status = 'delivered') AS delivered,"
        " min(delivered_at) AS first, max(delivered_at) AS last,"
        " (SELECT count(*) FROM webhook_attempts) AS attempts FROM webhook_deliveries"
    )


async def _assigned(ports: list[int]) -> bool:
    """Every notified partition held by one of the notifiers, and each notifier holding some:
    the group has settled (each member's lag gauge names the partitions it holds)."""
    held = []
    async with httpx.AsyncClient() as http:
        for port in ports:
            metrics = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
            held.append(sum(1 for line in metrics.splitlines() if line.startswith(LAG_SERIES)))
    return all(held) and sum(held) == sum(topics.PARTITIONS[t] for t in NOTIFIED)


async def _notifiers(
    environment: Environment,
    count: int,
    expected: int,
    receiver: tuple[str, int],  # bench/receiver.py's URL and process id
    profile_s: int = 0,
) -> dict[str, Any]:
    """`count` notifiers in a new group, settled, then the backlog published again for them."""
    url, receiver_pid = receiver
    group = f"cdo-bench-delivery-{secrets.token_hex(4)}-{count}"
    await _commit_ends(environment.kafka, [group])
    connection = await environment.connect()
    try:
        await connection.execute("TRUNCATE webhook_attempts, webhook_deliveries")
        posts_before = (await counted(url))["posts"]
        async with AsyncExitStack() as stack:
            procs: list[Service] = []
            ports = [free_port() for _ in range(count)]
            for n, port in enumerate(ports):
                env = environment.server_env(
                    NOTIFIER_GROUP_ID=group, NOTIFIER_HTTP_PORT=str(port), SLA_JOB="false"
                )
                procs.append(
                    await stack.enter_async_context(
                        running(
                            f"notifier-{n + 1}",
                            cli("notifier"),
                            env,
                            state_dir("logs"),
                            ready_url=f"http://127.0.0.1:{port}/healthz",
                        )
                    )
                )
            await wait_until(
                lambda: _assigned(ports), limit_s=120, what="the notifiers' group", poll_s=0.5
            )
            before = report.pressure()
            cpu_before = sum(cpu_seconds(p.pid) for p in procs)
            receiver_before = cpu_seconds(receiver_pid)
            await connection.execute("UPDATE outbox_events SET sent_at = NULL, attempts = 0")
            relay_env = environment.server_env(SLA_JOB="false", OUTBOX_RELAY="true")
            await stack.enter_async_context(
                running("relay", cli("relay"), relay_env, state_dir("logs"))
            )

            async def all_delivered() -> bool:
                return bool(int((await _deliveries(connection))["delivered"]) >= expected)

            recording = None
            if profile_s:  # the first notifier, from the relay's start
                out = state_dir("profiles") / f"delivery-notifier-{count}.txt"
                recording = asyncio.ensure_future(profile.record(procs[0].pid, profile_s, out))
            await wait_until(all_delivered, limit_s=600, what="every webhook delivered", poll_s=0.2)
            if recording is not None:
                print(profile.summarise(await recording))
            cpu = sum(cpu_seconds(p.pid) for p in procs) - cpu_before
            receiver_cpu = cpu_seconds(receiver_pid) - receiver_before
            machine = f"{before} -> {report.pressure()}"
        row = await _deliveries(connection)
        relay = await _published(connection)
    finally:
        await connection.close()
    posts = (await counted(url))["posts"] - posts_before
    if row["n"] != expected or row["attempts"] < expected or posts < expected:
        raise SystemExit(f"bench: {expected} webhooks, but {dict(row)} and {posts} POSTs")
    rate = per_second(row["delivered"], row["first"], row["last"])
    figures = {
        "notifiers": count,
        "deliveries": row["n"],
        "delivered": row["delivered"],
        "attempts": row["attempts"],
        "posts": posts,
        "per_s": round(rate, 1),
        "cpu_ms_per_delivery": round(1000 * cpu / max(1, row["delivered"]), 2),
        "receiver_cpu_ms_per_post": round(1000 * receiver_cpu / max(1, row["delivered"]), 2),
        "relay_per_s": relay["per_s"],
        "machine": machine,
    }
    print(
        f"  {count} notifier(s): {figures['delivered']} delivered at {rate:,.0f}/s,"
        f" {figures['cpu_ms_per_delivery']} ms CPU each ({figures['attempts']} attempts,"
        f" {figures['posts']} POSTs, the receiver's CPU {figures['receiver_cpu_ms_per_post']} ms"
        f" each); the relay fed them at {relay['per_s']:,.0f} events/s"
        f"\n    {machine}"
    )
    return figures


async def main(opts: argparse.Namespace) -> None:
    environment = Environment()
    print(f"bench/run delivery: fresh database {environment.database}")
    await fresh_database(environment)
    receiver_port = free_port()
    receiver = f"http://127.0.0.1:{receiver_port}"
    receiver_argv = [str(VENV_BIN / "python"), "-m", "bench.receiver", "--port", str(receiver_port)]
    env = environment.server_env()
    async with running(
        "receiver", receiver_argv, env, state_dir("logs"), ready_url=f"{receiver}/count"
    ) as receiving:
        await _file_backlog(environment, opts, receiver)
        relay = await _relay(environment)
        runs = [
            await _notifiers(
                environment, count, opts.filings, (receiver, receiving.pid), opts.profile
            )
            for count in opts.notifiers
        ]
    endpoints = len({workloads.first_approver_of(org) for org in workloads.requesters(10)})
    floor = await drained_floor(
        environment, opts.filings, opts.floor_rate, PER_ENDPOINT * endpoints
    )
    report.header("relay and delivery", columns=("per second", "ratio to floor", ""))
    print(report.line("relay alone, events", f"{relay['per_s']:,.0f}", "", ""))
    for run in runs:
        print(
            report.line(
                f"{run['notifiers']} notifier(s), deliveries",
                f"{run['per_s']:,.0f}",
                f"{report.ratio(run['per_s'], floor['per_s']):.2f}",
                "",
            )
        )
    print(report.line("floor, consume → POST, 1 process", f"{floor['per_s']:,.0f}", "1.00", ""))
    report.save(
        "delivery",
        {
            "machine": report.machine(),
            "settings": vars(opts),
            "relay": relay,
            "notifiers": runs,
            "floor": floor,
        },
    )


def cli_main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--filings", type=int, default=2000, help="the backlog: webhooks to deliver"
    )
    parser.add_argument("--notifiers", type=int, nargs="+", default=[1, 2])
    profile.add_option(parser, "seconds of py-spy of the first notifier as the relay starts")
    parser.add_argument("--floor-rate", type=float, default=4000, help="the floor's produce pace")
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli_main()
