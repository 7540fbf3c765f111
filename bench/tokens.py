"""`bench/tokens`: tokens per second (client credentials, and grant tokens for
`dataset:<id>:read`) and introspections per second, against floors on the same server environment.

Two floors, each in the same run: the app floor (bench/floor_app.py: the broker's app with a
bare route that signs or verifies) and the raw floor (bench/raw_floor.py: FastAPI, asyncpg and
joserfc used the plainest way). A token's raw floor is measured twice: as issue 17 names it (one
lookup and a signature) and with what the broker's endpoint keeps besides: the client's rate
counted (one Redis round trip) and the `token.issued` audit row appended in the same one
statement (`/raw/token/checked`).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from bench import clients, profile, report
from bench.environment import STATE, Environment, floor_argv, fresh_database, state_dir
from bench.sampling import cpu_seconds, sampling
from bench.wrk import run_wrk
from testing import workloads
from testing.processes import Service, broker_argv, free_port, running


def _lines(path: Path, calls: list[tuple[str, dict[str, str]]]) -> Path:
    path.write_text("".join(f"{auth}\t{urlencode(form)}\n" for auth, form in calls))
    return path


async def _run(
    name: str, pid: int, url: str, path: str, calls: Path, opts: argparse.Namespace
) -> dict[str, Any]:
    args = [path, str(calls)]
    await run_wrk(url, "form.lua", args, seconds=opts.warmup, connections=opts.connections)
    before = cpu_seconds(pid)
    machine = report.pressure()
    async with sampling({name: pid}) as rss:
        result = await run_wrk(
            url, "form.lua", args, seconds=opts.seconds, connections=opts.connections
        )
    machine += f" -> {report.pressure()}"
    cpu_ms = 1000 * (cpu_seconds(pid) - before) / max(1, result.ok)
    print(
        f"  {name}: {result.rate:,.0f}/s  p50 {result.p50_ms:.1f} ms  p99 {result.p99_ms:.1f} ms"
        f"  {cpu_ms:.1f} ms CPU each  ({result.ok} ok, {result.not_ok} not ok)\n    {machine}"
    )
    if result.not_ok:
        print(f"    first error: {result.first_error}")
    return result.as_dict() | {
        "server_cpu_ms_per_request": round(cpu_ms, 2),
        "peak_rss": rss.peak.get(name, 0),
        "machine": machine,
    }


async def _runs(
    name: str, pid: int, url: str, opts: argparse.Namespace, **runs: tuple[str, Path]
) -> dict[str, Any]:
    """`_run` of each (path, calls), one after the other, under its key."""
    return {
        key: await _run(name, pid, url, path, calls, opts) for key, (path, calls) in runs.items()
    }


async def _floor(
    module: str,
    label: str,
    port: int,
    env: dict[str, str],
    opts: argparse.Namespace,
    **runs: tuple[str, Path],
) -> dict[str, Any]:
    """`_runs` against the floor server `module`, started for them on `port`."""
    url = f"http://127.0.0.1:{port}"
    argv, logs = floor_argv(module, port), state_dir("logs")
    async with running(
        label.replace(" ", "-"), argv, env, logs, ready_url=f"{url}/healthz"
    ) as proc:
        return await _runs(label, proc.pid, url, opts, **runs)


async def _profile(
    proc: Service, url: str, path: str, calls: Path, name: str, opts: argparse.Namespace
) -> str:
    out = state_dir("profiles") / f"tokens-{name}.txt"
    load = run_wrk(
        url, "form.lua", [path, str(calls)], seconds=opts.profile + 2, connections=opts.connections
    )
    return await profile.under_load(proc.pid, opts.profile, out, load)


async def main(opts: argparse.Namespace) -> None:
    environment = Environment()
    logs = state_dir("logs")
    print(f"bench/tokens: fresh database {environment.database}")
    await fresh_database(environment)
    orgs = workloads.requesters(opts.clients)
    made, introspector = await clients.callers_and_introspector(environment, orgs)
    env = environment.server_env()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ordinary = _lines(
        STATE / "token-calls.txt",
        [
            (
                clients.basic(c),
                {"grant_type": "client_credentials", "scope": "requests:submit requests:read"},
            )
            for c in made.values()
        ],
    )
    grant_scope = clients.GRANT_SCOPE
    granted = _lines(
        STATE / "grant-token-calls.txt",
        [
            (clients.basic(c), {"grant_type": "client_credentials", "scope": grant_scope})
            for c in made.values()
        ],
    )
    rounds: list[dict[str, Any]] = []
    for number in range(1, opts.rounds + 1):
        print(f"\nround {number} of {opts.rounds}")
        figures: dict[str, Any] = {}
        async with running(
            "broker", broker_argv(port), env, logs, ready_url=f"{url}/healthz"
        ) as proc:
            async with httpx.AsyncClient(base_url=url) as http:
                grant_tokens = []
                for client in made.values():
                    if number == 1:
                        await clients.file_for_grant(http, client)
                    grant_tokens.append(await clients.token(http, client, grant_scope))
            introspections = _lines(
                STATE / "introspect-calls.txt",
                [(clients.basic(introspector), {"token": token}) for token in grant_tokens],
            )
            figures |= await _runs(
                "broker",
                proc.pid,
                url,
                opts,
                client_credentials=("/oauth/token", ordinary),
                grant_token=("/oauth/token", granted),
                introspection=("/oauth/introspect", introspections),
            )
            if opts.profile and number == opts.rounds:
                for name, path, calls in (
                    ("client-credentials", "/oauth/token", ordinary),
                    ("grant", "/oauth/token", granted),
                    ("introspection", "/oauth/introspect", introspections),
                ):
                    print(f"\npy-spy profile of the broker, {name} ({opts.profile}s):")
                    print(await _profile(proc, url, path, calls, name, opts))
        floors = (
            ("bench.floor_app", "floor", {
                "floor_token": ("/bench/floor/token", ordinary),
                "floor_introspection": ("/bench/floor/introspect", introspections),
            }),
            ("bench.raw_floor", "raw floor", {
                "raw_token": ("/raw/token", ordinary),
                "raw_grant_token": ("/raw/token", granted),
                "raw_token_checked": ("/raw/token/checked", ordinary),
                "raw_grant_token_checked": ("/raw/token/checked", granted),
                "raw_introspection": ("/raw/introspect", introspections),
            }),
        )  # fmt: skip
        for module, label, runs in floors:
            figures |= await _floor(module, label, port, env, opts, **runs)
        rounds.append(figures)

    report.header(
        f"OAuth endpoints, {opts.connections} connections, {opts.seconds}s per run",
        columns=report.FLOOR_COLUMNS,
    )
    for number, f in enumerate(rounds, 1):
        print(f" round {number}")
        for label, key, raw_key, floor_key in (
            ("client-credentials tokens/s", "client_credentials", "raw_token", "floor_token"),
            ("grant tokens/s", "grant_token", "raw_grant_token", "floor_token"),
            ("introspections/s", "introspection", "raw_introspection", "floor_introspection"),
        ):
            ours, raw, floor = f[key], f[raw_key], f[floor_key]
            print(report.triple(label, ours["per_s"], raw["per_s"], floor["per_s"]))
            if (checked := f.get(f"{raw_key}_checked")) is not None:
                print(
                    report.line(
                        "  raw floor, rate and audit row",
                        "",
                        f"{checked['per_s']:,.0f}",
                        f"{report.ratio(ours['per_s'], checked['per_s']):.2f}",
                    )
                )
            print(
                report.triple(
                    "  p99 latency (ms)", ours["p99_ms"], raw["p99_ms"], floor["p99_ms"], lower=True
                )
            )
            cpu = "server_cpu_ms_per_request"
            print(
                report.triple(
                    "  server CPU per call (ms)", ours[cpu], raw[cpu], floor[cpu], lower=True
                )
            )
            print(f"    broker {ours['machine']}; raw floor {raw['machine']}")
    print("  (latency and CPU ratios are floor / broker, so that higher is better throughout)")
    report.save("tokens", {"machine": report.machine(), "settings": vars(opts), "rounds": rounds})


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15, help="measured seconds per run")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured seconds before each")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--clients", type=int, default=10, help="OAuth clients asking for tokens")
    parser.add_argument("--rounds", type=int, default=2)
    profile.add_option(
        parser, "after the last round's broker runs, S seconds of py-spy under each load"
    )
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
