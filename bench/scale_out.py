"""`bench/run scale_out`: filings (or introspections) per second with 1, 2, 4 ... broker processes
against one stack, the figure each added process brings, and the raw floor in the same run.

Production scales the broker by replicas (deploy/k8s), so this starts N `cdo-broker serve`
processes on N ports (one database, Redis and Kafka; each with its relay and SLA job) and loads
each with its own wrk at the same time (the connections split between them); the figures are
the sum. The raw floor (bench/raw_floor.py, one process) is measured in the same run, as the
yardstick of what one process of the least code does here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from bench import clients, report
from bench.environment import STATE, Environment, floor_argv, fresh_database, state_dir
from bench.outbox import drained
from bench.sampling import cpu_seconds
from bench.wrk import WrkResult, run_wrk
from testing import processes, workloads
from testing.processes import Service, broker_argv, free_port, running


async def _load(
    urls: list[str], script: str, args: list[str], seconds: int, connections: int
) -> list[WrkResult]:
    share = max(1, connections // len(urls))

    def own(i: int) -> list[str]:  # each load its own Idempotency-Keys (the run's nonce + i)
        return [*args[:2], f"{args[2]}p{i}", *args[3:]] if script == "submit.lua" else args

    return list(
        await asyncio.gather(
            *(
                run_wrk(url, script, own(i), seconds=seconds, connections=share)
                for i, url in enumerate(urls)
            )
        )
    )


async def _measure(
    label: str,
    procs: list[Service],
    urls: list[str],
    script: str,
    args: list[str],
    opts: argparse.Namespace,
) -> dict[str, Any]:
    nonce = secrets.token_hex(4)
    if script == "submit.lua":
        args = [args[0], args[1], f"w{nonce}", args[3]]
    await _load(urls, script, args, opts.warmup, opts.connections)
    if script == "submit.lua":
        args = [args[0], args[1], f"m{nonce}", args[3]]
    before_cpu = sum(cpu_seconds(p.pid) for p in procs)
    before = report.pressure()
    results = await _load(urls, script, args, opts.seconds, opts.connections)
    machine = f"{before} -> {report.pressure()}"
    ok = sum(r.ok for r in results)
    rate = sum(r.rate for r in results)
    cpu_ms = 1000 * (sum(cpu_seconds(p.pid) for p in procs) - before_cpu) / max(1, ok)
    figures = {
        "processes": len(procs),
        "per_s": round(rate, 1),
        "p99_ms": max(r.p99_ms for r in results),
        "p50_ms": max(r.p50_ms for r in results),
        "server_cpu_ms_per_request": round(cpu_ms, 2),
        "not_ok": sum(r.not_ok for r in results),
        "machine": machine,
    }
    print(
        f"  {label}: {rate:,.0f}/s  p50 {figures['p50_ms']:.1f} ms  p99 {figures['p99_ms']:.1f} ms"
        f" (worst process)  {cpu_ms:.1f} ms CPU each  ({ok} ok, {figures['not_ok']} not ok)"
        f"\n    {machine}"
    )
    return figures


async def _brokers(
    stack: AsyncExitStack, count: int, env: dict[str, str], logs: Path
) -> tuple[list[Service], list[str]]:
    procs, urls = [], []
    for n in range(count):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        procs.append(
            await stack.enter_async_context(
                running(f"broker-{n + 1}", broker_argv(port), env, logs, ready_url=f"{url}/healthz")
            )
        )
        urls.append(url)
    return procs, urls


async def main(opts: argparse.Namespace) -> None:
    environment = Environment()
    logs = state_dir("logs")
    print(f"bench/run scale_out ({opts.path}): fresh database {environment.database}")
    await fresh_database(environment)
    orgs = workloads.requesters(10)
    made, introspector = await clients.callers_and_introspector(environment, orgs)
    env = environment.server_env(SLA_JOB="true")
    filing = opts.path == "filing"
    script = "submit.lua" if filing else "form.lua"
    body_file = STATE / "scale-body.json"
    body_file.write_text(json.dumps(workloads.body("%PURPOSE%"), ensure_ascii=False))
    calls_file = STATE / "scale-calls.txt"
    template = ""
    results: list[dict[str, Any]] = []
    for count in opts.processes:
        print(f"\n{count} broker process(es)")
        async with AsyncExitStack() as stack:
            procs, urls = await _brokers(stack, count, env, logs)
            async with httpx.AsyncClient(base_url=urls[0]) as http:
                if filing:
                    tokens = [await clients.token(http, made[org]) for org in orgs]
                    calls_file.write_text("\n".join(tokens) + "\n")
                    template = template or await clients.file_template(http, tokens[0])
                else:
                    granted = []
                    for client in made.values():
                        if not template:
                            await clients.file_for_grant(http, client)
                        granted.append(await clients.token(http, client, clients.GRANT_SCOPE))
                    template = template or "granted"
                    lines = [
                        f"{clients.basic(introspector)}\t{urlencode({'token': t})}" for t in granted
                    ]
                    calls_file.write_text("\n".join(lines) + "\n")
            path = "/v1/requests" if filing else "/oauth/introspect"
            args = (
                [path, str(calls_file), "", str(body_file)] if filing else [path, str(calls_file)]
            )
            figures = await _measure(f"{count} broker(s)", procs, urls, script, args, opts)
            if filing:  # what the relays had left when the load stopped, and its sending
                backlog, drain_s = await drained(environment)
                figures |= {"outbox_backlog_at_end": backlog, "outbox_drain_s": round(drain_s, 1)}
                print(f"    relay backlog {backlog}, drained in {drain_s:.1f}s")
            results.append(figures)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    raw_argv = floor_argv("bench.raw_floor", port, template if filing else "")
    async with AsyncExitStack() as stack:
        if filing:  # its rows published by the broker's relay, in a process of its own
            relay_env = env | {"OUTBOX_RELAY": "true"}
            await stack.enter_async_context(
                running("relay", processes.cli("relay"), relay_env, logs)
            )
        raw = await stack.enter_async_context(
            running("raw-floor", raw_argv, env, logs, ready_url=f"{url}/healthz")
        )
        path = "/raw/requests" if filing else "/raw/introspect"
        args = [path, str(calls_file), "", str(body_file)] if filing else [path, str(calls_file)]
        floor = await _measure("raw floor, 1 process", [raw], [url], script, args, opts)

    report.header(
        f"{opts.path}: broker processes against one stack, {opts.connections} connections",
        columns=("per second", "per added", "ratio to raw"),
    )
    previous = 0.0
    for figures in results:
        print(
            report.line(
                f"{figures['processes']} process(es)",
                f"{figures['per_s']:,.0f}",
                f"{figures['per_s'] - previous:+,.0f}",
                f"{report.ratio(figures['per_s'], floor['per_s']):.2f}",
            )
        )
        print(f"    CPU {figures['server_cpu_ms_per_request']} ms each; {figures['machine']}")
        previous = figures["per_s"]
    print(report.line("raw floor, 1 process", f"{floor['per_s']:,.0f}", "", "1.00"))
    report.save(
        f"scale-out-{opts.path}",
        {"machine": report.machine(), "settings": vars(opts), "runs": results, "raw": floor},
    )


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", choices=("filing", "introspection"), default="filing")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--seconds", type=int, default=15, help="measured seconds per run")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured seconds before each")
    parser.add_argument("--connections", type=int, default=32, help="split between processes")
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
