"""`bench/e2e`: latency from filing a request to its first CDO webhook (`approval.requested`)
arriving at a receiver, at steady arrival rates, against a Kafka round trip plus one POST.

The broker (`cdo-broker serve`, its relay woken by each commit) and the notifier
(`cdo-broker notifier`) run as production runs them, on the shared stack. An open-loop generator
(bench/open_loop.py, its own process) files at a constant rate; the receiver (bench/receiver.py)
notes when each request's first webhook arrives. Latency is arrival minus the moment the filing
was due. The floor (bench/kafka_floor.py) sends messages at the same rate through Kafka to a
consumer that POSTs each to the same receiver.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import statistics
from pathlib import Path
from typing import Any

import httpx

from bench import clients, profile, report, stages
from bench.environment import STATE, Environment, fresh_database, state_dir
from bench.sampling import cpu_seconds, sampling
from testing import workloads
from testing.processes import VENV_BIN, Service, broker_argv, free_port, running
from testing.waiting import TimedOut, wait_until

KIND = "approval.requested"
IDLE_S = 5.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def posts(receiver: str) -> int:
    async with httpx.AsyncClient(timeout=30) as http:
        return int((await http.get(f"{receiver}/count")).json()["posts"])


async def arrivals(receiver: str) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=30) as http:
        answer: dict[str, float] = (await http.get(f"{receiver}/arrivals")).json()
    return answer


async def _wait_arrivals(
    receiver: str, ids: list[str], kind: str, limit_s: float
) -> dict[str, float]:
    """Arrival times of the given ids; waits until all came or `limit_s` passed."""
    found: dict[str, float] = {}

    async def all_came() -> bool:
        seen = await arrivals(receiver)
        found.update({i: seen[f"{kind} {i}"] for i in ids if f"{kind} {i}" in seen})
        return len(found) == len(ids)

    with contextlib.suppress(TimedOut):  # the missing ones are a figure of the run
        await wait_until(all_came, limit_s=limit_s, what="the webhooks", poll_s=0.5)
    return found


def _summary(
    label: str, due: dict[str, float], came: dict[str, float], extra: dict[str, Any]
) -> dict[str, Any]:
    latencies = [1000 * (came[i] - due[i]) for i in due if i in came]
    figures = {
        "sent": len(due),
        "arrived": len(latencies),
        "missing": len(due) - len(latencies),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
    } | extra
    print(
        f"  {label}: p50 {figures['p50_ms']} ms  p99 {figures['p99_ms']} ms"
        f"  max {figures['max_ms']} ms"
        f"  ({figures['arrived']} of {figures['sent']} arrived)"
    )
    return figures


def _spread(values: list[float]) -> str:
    return f"{percentile(values, 50):.0f}/{percentile(values, 99):.0f}"


async def _profiles(
    opts: argparse.Namespace, rate: float, servers: dict[str, Service]
) -> dict[str, Path]:
    """py-spy of each server while the load runs (after a second to reach its pace)."""
    await asyncio.sleep(1)
    seconds = max(1, min(opts.profile, int(opts.seconds) - 2))
    folder = state_dir("profiles")
    outs = {name: folder / f"e2e-{name}-{int(rate)}.txt" for name in servers}
    await asyncio.gather(
        *(profile.record(proc.pid, seconds, outs[name]) for name, proc in servers.items())
    )
    return outs


async def _broker_run(
    opts: argparse.Namespace,
    environment: Environment,
    port: int,
    receiver: str,
    rate: float,
    tokens: Path,
    servers: dict[str, Service],
) -> dict[str, Any]:
    out = STATE / f"e2e-load-{int(rate)}.jsonl"
    nonce = secrets.token_hex(4)
    cpu_before = {name: cpu_seconds(proc.pid) for name, proc in servers.items()}
    posts_before = await posts(receiver)
    loader = await asyncio.create_subprocess_exec(
        str(VENV_BIN / "python"),
        "-m",
        "bench.open_loop",
        "--port",
        str(port),
        "--rate",
        str(rate),
        "--seconds",
        str(opts.seconds),
        "--tokens",
        str(tokens),
        "--nonce",
        nonce,
        "--out",
        str(out),
    )
    profiling = asyncio.create_task(_profiles(opts, rate, servers)) if opts.profile else None
    if await loader.wait() != 0:
        raise SystemExit("bench: the load generator failed")
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    filed = {r["id"]: r["due"] for r in rows if r.get("status") == 201}
    failed = [r for r in rows if r.get("status") != 201]
    answer_ms = [1000 * (r["done"] - r["due"]) for r in rows if r.get("status") == 201]
    answered = {r["id"]: r["done"] for r in rows if r.get("status") == 201}
    came = await _wait_arrivals(receiver, list(filed), KIND, opts.settle)
    await stages.settled(environment, limit_s=opts.settle)
    delivered = await posts(receiver) - posts_before
    cpu_ms = {
        name: 1000 * (cpu_seconds(proc.pid) - cpu_before[name]) for name, proc in servers.items()
    }
    # After the 201: relay, Kafka, notifier, POST (what the poll settings could lengthen).
    after_ms = [1000 * (came[i] - answered[i]) for i in answered if i in came]
    hops = stages.hops(answered, came, await stages.times(environment, KIND, list(filed)))
    extra: dict[str, Any] = {
        "not_filed": len(failed),
        "first_failure": failed[0] if failed else None,
        "filing_p50_ms": round(percentile(answer_ms, 50), 1),
        "after_answer_p50_ms": round(percentile(after_ms, 50), 1),
        "after_answer_p99_ms": round(percentile(after_ms, 99), 1),
        "filing_p99_ms": round(percentile(answer_ms, 99), 1),
        "hops_p50_p99_ms": {name: _spread(values) for name, values in hops.items()},
        "webhooks_delivered": delivered,
        "notifier_cpu_ms_per_delivery": round(cpu_ms["notifier"] / max(1, delivered), 2),
        "broker_cpu_ms_per_filing": round(cpu_ms["broker"] / max(1, len(filed)), 2),
    }
    if profiling is not None:
        for name, path in (await profiling).items():
            summary = profile.summarise(path)
            path.with_suffix(".summary.txt").write_text(summary + "\n")
            extra[f"{name}_profile"] = str(path.with_suffix(".summary.txt"))
    return _summary(f"broker at {rate:.0f}/s", filed, came, extra)


async def _floor_run(
    opts: argparse.Namespace,
    receiver: str,
    rate: float,
    environment: Environment,
    *,
    quiet: bool = False,
) -> dict[str, Any]:
    out = STATE / f"e2e-floor-{int(rate)}.json"
    producer = await asyncio.create_subprocess_exec(
        str(VENV_BIN / "python"),
        "-m",
        "bench.kafka_floor",
        "produce",
        "--bootstrap",
        environment.kafka,
        "--rate",
        str(rate),
        "--seconds",
        str(opts.seconds),
        "--nonce",
        secrets.token_hex(4),
        "--out",
        str(out),
    )
    if await producer.wait() != 0:
        raise SystemExit("bench: the floor's producer failed")
    due: dict[str, float] = json.loads(out.read_text())
    came = await _wait_arrivals(receiver, list(due), KIND, opts.settle)
    if quiet:
        return {"arrived": len(came)}
    return _summary(f"floor at {rate:.0f}/s", due, came, {})


async def main(opts: argparse.Namespace) -> None:
    environment = Environment()
    logs = state_dir("logs")
    print(f"bench/e2e: fresh database {environment.database}")
    await fresh_database(environment)
    orgs = workloads.requesters(opts.requesters)
    approvers = sorted({workloads.first_approver_of(org) for org in orgs})
    made = await clients.create_clients(
        environment, dict.fromkeys([*orgs, *approvers], clients.CALLER_SCOPES)
    )
    nonce = secrets.token_hex(4)
    env = environment.server_env(
        NOTIFIER_GROUP_ID=f"cdo-bench-notifier-{nonce}", NOTIFIER_HTTP_PORT=str(free_port())
    )
    port, receiver_port = free_port(), free_port()
    url, receiver = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{receiver_port}"
    tokens_file = STATE / "e2e-tokens.txt"
    results: dict[str, Any] = {"broker": {}, "floor": {}}
    receiver_argv = [str(VENV_BIN / "python"), "-m", "bench.receiver", "--port", str(receiver_port)]
    async with (
        running("receiver", receiver_argv, env, logs, ready_url=f"{receiver}/count"),
        running("broker", broker_argv(port), env, logs, ready_url=f"{url}/healthz") as broker,
        running("notifier", [str(VENV_BIN / "cdo-broker"), "notifier"], env, logs) as notifier,
        sampling({"broker": broker.pid, "notifier": notifier.pid}) as rss,
    ):
        async with httpx.AsyncClient(base_url=url) as http:
            tokens = [await clients.token(http, made[org]) for org in orgs]
            tokens_file.write_text("\n".join(tokens) + "\n")
            for org in approvers:
                bearer = await clients.token(http, made[org], "webhooks:manage")
                registered = await http.put(
                    "/v1/webhooks/endpoint",
                    json={"url": f"{receiver}/hook/{org}"},
                    headers={"Authorization": f"Bearer {bearer}"},
                )
                registered.raise_for_status()

            async def webhook_arrives() -> bool:
                """The notifier (starting at `latest`) is assigned once a new filing reaches us."""
                filed = await http.post(
                    "/v1/requests",
                    json=workloads.body("bench e2e probe"),
                    headers={"Authorization": f"Bearer {tokens[0]}"},
                )
                filed.raise_for_status()
                came = await _wait_arrivals(receiver, [filed.json()["id"]], KIND, 3)
                return bool(came)

            await wait_until(webhook_arrives, limit_s=90, what="the notifier's first webhook")
        servers = {"broker": broker, "notifier": notifier}
        idle_before = {name: cpu_seconds(proc.pid) for name, proc in servers.items()}
        await asyncio.sleep(IDLE_S)  # the idle polling every delivery's figure includes
        results["idle_cpu_ms_per_s"] = {
            name: round(1000 * (cpu_seconds(proc.pid) - idle_before[name]) / IDLE_S, 1)
            for name, proc in servers.items()
        }
        for rate in opts.rates:
            results["broker"][str(rate)] = await _broker_run(
                opts, environment, port, receiver, rate, tokens_file, servers
            )
        peak = dict(rss.peak)

    floor_ready = STATE / f"e2e-floor-ready-{nonce}"
    consumer_argv = [
        str(VENV_BIN / "python"),
        "-m",
        "bench.kafka_floor",
        "consume",
        "--bootstrap",
        environment.kafka,
        "--group",
        f"cdo-bench-floor-{nonce}",
        "--receiver",
        f"{receiver}/hook/floor",
        "--ready",
        str(floor_ready),
    ]

    async def consumer_assigned() -> bool:
        return floor_ready.exists()

    async with (
        running("receiver", receiver_argv, env, logs, ready_url=f"{receiver}/count"),
        running("kafka-floor-consumer", consumer_argv, env, logs, ready=consumer_assigned),
    ):

        async def floor_message_arrives() -> bool:
            """Assigned is not enough: a `latest` consumer skips what precedes its first fetch."""
            probe = argparse.Namespace(**(vars(opts) | {"seconds": 0.2, "settle": 3}))
            return bool((await _floor_run(probe, receiver, 10, environment, quiet=True))["arrived"])

        await wait_until(
            floor_message_arrives, limit_s=90, what="the floor consumer's first message"
        )
        for rate in opts.rates:
            results["floor"][str(rate)] = await _floor_run(opts, receiver, rate, environment)
    floor_ready.unlink(missing_ok=True)

    report.header(f"submission → first CDO webhook, open loop, {opts.seconds:.0f}s per rate")
    for rate in opts.rates:
        ours, floor = results["broker"][str(rate)], results["floor"][str(rate)]
        print(f" {rate:.0f} requests/s")
        for key in ("p50_ms", "p99_ms"):
            print(
                report.line(
                    f"{key[:3]} latency (ms)",
                    f"{ours[key]:.1f}",
                    f"{floor[key]:.1f}",
                    f"{ours[key] / floor[key]:.2f}x",
                )
            )
        print(
            report.line(
                "arrived / sent",
                f"{ours['arrived']}/{ours['sent']}",
                f"{floor['arrived']}/{floor['sent']}",
                "",
            )
        )
        print(
            report.line(
                "filing answered p50/p99 (ms)",
                f"{ours['filing_p50_ms']:.0f}/{ours['filing_p99_ms']:.0f}",
                "",
                "",
            )
        )
        print(
            report.line(
                "answer → webhook p50/p99 (ms)",
                f"{ours['after_answer_p50_ms']:.0f}/{ours['after_answer_p99_ms']:.0f}",
                "",
                "",
            )
        )
        for hop, spread in ours["hops_p50_p99_ms"].items():
            print(report.line(f"  {hop.replace('_', ' ')} (ms)", spread, "", ""))
        print(
            report.line(
                "CPU: notifier per webhook (ms)",
                f"{ours['notifier_cpu_ms_per_delivery']:.1f}",
                "",
                "",
            )
        )
        print(
            report.line(
                "CPU: broker per filing (ms)", f"{ours['broker_cpu_ms_per_filing']:.1f}", "", ""
            )
        )
        for name, path in ((k, v) for k, v in ours.items() if k.endswith("_profile")):
            print(f"  {name.replace('_', ' ')}: {path}")
    print(
        report.line(
            "peak RSS broker / notifier",
            report.mib(peak.get("broker", 0)),
            report.mib(peak.get("notifier", 0)),
            "",
        )
    )
    idle = results["idle_cpu_ms_per_s"]
    print(
        report.line(
            "idle CPU ms/s broker / notifier",
            f"{idle['broker']:.1f}",
            f"{idle['notifier']:.1f}",
            "",
        )
    )
    print("  (here the ratio is broker / floor: the goal is p99 ≤ 3x the floor and ≤ 250 ms)")
    report.save(
        "e2e",
        {"machine": report.machine(), "settings": vars(opts), "results": results, "peak_rss": peak},
    )


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[100, 300])
    parser.add_argument("--seconds", type=float, default=20, help="seconds of load per rate")
    parser.add_argument("--settle", type=float, default=60, help="seconds to wait for stragglers")
    parser.add_argument("--requesters", type=int, default=10)
    profile.add_option(parser, "py-spy broker and notifier for S seconds of each rate's load")
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
