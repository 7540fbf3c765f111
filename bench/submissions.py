"""`bench/submissions`: filings per second and latency of `POST /v1/requests`, against a floor.

The broker runs as production runs it (`cdo-broker serve`: one uvicorn process; scale-out is by
replicas). Its floors, in the same run: the raw floor (bench/raw_floor.py: FastAPI and asyncpg, the
same rows in one round trip; measured again with the token checked against revocation and the
organisation's rate counted in one Redis round trip, as the broker checks them) and the app floor
(the same app served the same way with one bare route that writes the same rows in one transaction,
bench/floor_app.py). wrk loads each in turn from its own process, with real tokens, a new
Idempotency-Key and body per request (bench/lua/submit.lua).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
from pathlib import Path
from typing import Any

import httpx

from bench import clients, profile, report
from bench.environment import STATE, Environment, floor_argv, fresh_database, state_dir
from bench.outbox import drained
from bench.sampling import cpu_seconds, sampling
from bench.wrk import WrkResult, run_wrk
from testing import processes, workloads
from testing.processes import Service, broker_argv, free_port, running


async def _warm_up(url: str, path: str, args: list[str], seconds: int, connections: int) -> None:
    await run_wrk(url, "submit.lua", args, seconds=seconds, connections=connections)


async def _measure(
    environment: Environment,
    proc: Service,
    url: str,
    path: str,
    files: tuple[Path, Path],
    opts: argparse.Namespace,
    label: str,
) -> dict[str, Any]:
    tokens_file, body_file = files
    nonce = secrets.token_hex(4)
    args = [path, str(tokens_file), f"w{nonce}", str(body_file)]
    await _warm_up(url, path, args, opts.warmup, opts.connections)
    await drained(environment)
    args[2] = f"m{nonce}"
    cpu_before = cpu_seconds(proc.pid)
    before = report.pressure()
    async with sampling({label: proc.pid}) as rss:
        result: WrkResult = await run_wrk(
            url, "submit.lua", args, seconds=opts.seconds, connections=opts.connections
        )
    machine = f"{before} -> {report.pressure()}"
    cpu_ms = 1000 * (cpu_seconds(proc.pid) - cpu_before) / max(1, result.ok)
    backlog, drain_s = await drained(environment)
    figures = result.as_dict() | {
        "peak_rss": rss.peak.get(label, 0),
        "server_cpu_ms_per_request": round(cpu_ms, 2),
        "outbox_backlog_at_end": backlog,
        "outbox_drain_s": round(drain_s, 1),
        "machine": machine,
    }
    print(
        f"  {label}: {result.rate:,.0f}/s  p50 {result.p50_ms:.1f} ms  p95 {result.p95_ms:.1f} ms"
        f"  p99 {result.p99_ms:.1f} ms  {cpu_ms:.1f} ms CPU each"
        f"  ({result.ok} ok, {result.not_ok} not ok,"
        f" {result.socket_errors + result.timeouts} socket errors; relay backlog {backlog},"
        f" drained in {drain_s:.1f}s)"
    )
    print(f"    {machine}")
    if result.not_ok:
        print(f"    first error: {result.first_error}")
    return figures


async def _profile(
    proc: Service, url: str, files: tuple[Path, Path], opts: argparse.Namespace
) -> str:
    out = state_dir("profiles") / "submissions.txt"
    args = ["/v1/requests", str(files[0]), f"p{secrets.token_hex(4)}", str(files[1])]
    load = run_wrk(url, "submit.lua", args, seconds=opts.profile + 2, connections=opts.connections)
    return await profile.under_load(proc.pid, opts.profile, out, load)


async def main(opts: argparse.Namespace) -> None:
    environment = Environment()
    logs = state_dir("logs")
    print(f"bench/submissions: fresh database {environment.database}, {opts.requesters} requesters")
    await fresh_database(environment)
    orgs = workloads.requesters(opts.requesters)
    made = await clients.create_clients(environment, dict.fromkeys(orgs, clients.CALLER_SCOPES))
    env = environment.server_env(SLA_JOB="true")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    tokens_file = STATE / "submit-tokens.txt"
    body_file = STATE / "submit-body.json"
    body_file.write_text(json.dumps(workloads.body("%PURPOSE%"), ensure_ascii=False))
    files = (tokens_file, body_file)
    rounds: list[dict[str, Any]] = []
    template = ""
    for number in range(1, opts.rounds + 1):
        print(f"\nround {number} of {opts.rounds}")
        figures: dict[str, Any] = {}
        async with running(
            "broker", broker_argv(port), env, logs, ready_url=f"{url}/healthz"
        ) as proc:
            async with httpx.AsyncClient(base_url=url) as http:
                tokens = [await clients.token(http, made[org]) for org in orgs]
                tokens_file.write_text("\n".join(tokens) + "\n")
                template = template or await clients.file_template(http, tokens[0])
            figures["broker"] = await _measure(
                environment, proc, url, "/v1/requests", files, opts, "broker"
            )
            if opts.profile and number == opts.rounds:
                print(f"\npy-spy profile of the broker under load ({opts.profile}s):")
                print(await _profile(proc, url, files, opts))
        app_floor = floor_argv("bench.floor_app", port, template)
        async with running("floor", app_floor, env, logs, ready_url=f"{url}/healthz") as proc:
            figures["floor"] = await _measure(
                environment, proc, url, "/bench/floor/requests", files, opts, "floor"
            )
        # The raw floor runs no relay: the broker's own (`cdo-broker relay`) publishes its rows,
        # in a process of its own, so the machine does the same publishing work as for the others.
        relay_env = env | {"OUTBOX_RELAY": "true"}
        async with (
            running("relay", processes.cli("relay"), relay_env, logs),
            running(
                "raw-floor",
                floor_argv("bench.raw_floor", port, template),
                env,
                logs,
                ready_url=f"{url}/healthz",
            ) as proc,
        ):
            figures["raw"] = await _measure(
                environment, proc, url, "/raw/requests", files, opts, "raw floor"
            )
            figures["raw_checked"] = await _measure(
                environment, proc, url, "/raw/requests/checked", files, opts, "raw floor, checked"
            )
        rounds.append(figures)

    report.header(
        f"POST /v1/requests, {opts.connections} connections, {opts.seconds}s per run",
        columns=report.FLOOR_COLUMNS,
    )
    for number, figures in enumerate(rounds, 1):
        broker, floor, raw = figures["broker"], figures["floor"], figures["raw"]
        print(f" round {number}")
        print(report.triple("submissions/s", broker["per_s"], raw["per_s"], floor["per_s"]))
        if (checked := figures.get("raw_checked")) is not None:
            print(
                report.line(
                    "  raw floor, revocation and rate",
                    "",
                    f"{checked['per_s']:,.0f}",
                    f"{report.ratio(broker['per_s'], checked['per_s']):.2f}",
                )
            )
        for key in ("p50_ms", "p95_ms", "p99_ms"):
            print(
                report.triple(
                    f"{key[:3]} latency (ms)", broker[key], raw[key], floor[key], lower=True
                )
            )
        key = "server_cpu_ms_per_request"
        print(
            report.triple(
                "server CPU per request (ms)", broker[key], raw[key], floor[key], lower=True
            )
        )
        print(
            report.line(
                "peak RSS",
                report.mib(broker["peak_rss"]),
                report.mib(raw["peak_rss"]),
                "",
                report.mib(floor["peak_rss"]),
                "",
            )
        )
        for side in ("broker", "raw", "floor"):
            print(f"  {side:<10} {figures[side]['machine']}")
    print("  (latency and CPU ratios are floor / broker, so that higher is better throughout)")
    report.save(
        "submissions",
        {
            "machine": report.machine(),
            "settings": vars(opts),
            "rounds": rounds,
        },
    )


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20, help="measured seconds per run")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured seconds before each")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--requesters", type=int, default=10, help="organisations filing")
    parser.add_argument("--rounds", type=int, default=2, help="broker then floor, this many times")
    profile.add_option(parser, "after the last broker run, S seconds of py-spy under the same load")
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
