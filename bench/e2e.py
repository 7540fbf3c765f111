"""`bench/e2e`: latency from filing a request to its first CDO webhook (`approval.requested`)
arriving at a receiver, at steady arrival rates, against two floors measured in the same run.

The broker (`cdo-broker serve`, its relay woken by each commit) and the notifier
(`cdo-broker notifier`) run as production runs them, on the shared stack. An open-loop generator
(bench/open_loop.py, its own process) files at a constant rate; the receiver (bench/receiver.py)
notes when each request's first webhook arrives. Latency is arrival minus the moment the filing
was due.

- The Kafka floor, issue 17's (bench/kafka_floor.py): messages sent at the same rate through Kafka
  to a consumer that POSTs each to the same receiver. No database, no signing: the least any
  path through Kafka takes.
- The raw path floor: the same durable effects as the broker's path, written by the plainest
  code, and measured as the broker is (the same generator at the same rate, the same latency).
  Filing: bench/raw_floor.py's `POST /raw/requests/checked` (one round trip writes the request's
  rows, copies of those of a request its requester filed at the broker in this run, outbox events
  included, and notifies the relay); then bench/raw_path.py's plain relay (woken by the commit's
  notification: reads the unsent rows, produces them idempotent with acks=all, marks them sent)
  and plain consumer (reads the approvals topic, writes the delivery rows, signs and POSTs each
  to the same receiver, records the outcomes, then commits its offsets).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import clients, profile, raw_path, report, stages
from bench.environment import STATE, Environment, floor_argv, fresh_database, state_dir
from bench.sampling import cpu_seconds, sampling
from testing import workloads
from testing.processes import VENV_BIN, Service, broker_argv, free_port, running
from testing.waiting import TimedOut, wait_until

KIND = "approval.requested"
IDLE_S = 5.0
RAW_FILING = "/raw/requests/checked"


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
        + (f"\n    {figures['machine']}" if "machine" in figures else "")
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


async def _probe_arrives(http: httpx.AsyncClient, path: str, bearer: str, receiver: str) -> bool:
    """Whether a filing POSTed to `path` now reaches the receiver within 3 s. A consumer that
    has joined its group is not enough: starting at `latest`, it skips what precedes its first
    fetch."""
    filed = await http.post(
        path,
        json=workloads.body("bench e2e probe"),
        headers={"Authorization": f"Bearer {bearer}", "Idempotency-Key": secrets.token_hex(8)},
    )
    filed.raise_for_status()
    return bool(await _wait_arrivals(receiver, [filed.json()["id"]], KIND, 3))


@dataclass(frozen=True)
class Pipeline:
    """A path measured from filing to webhook: where its filings go, and its processes, those
    that file and publish (the broker; the raw floor and its relay) and the one that delivers."""

    label: str
    port: int
    filing: str  # the URL path filings are POSTed to
    servers: dict[str, Service]
    delivering: str  # the name in `servers` of the process that delivers


async def _filing_run(
    opts: argparse.Namespace,
    environment: Environment,
    pipeline: Pipeline,
    receiver: str,
    rate: float,
    tokens: Path,
) -> dict[str, Any]:
    out = STATE / f"e2e-load-{pipeline.label.replace(' ', '-')}-{int(rate)}.jsonl"
    nonce = secrets.token_hex(4)
    servers = pipeline.servers
    machine = report.pressure()
    cpu_before = {name: cpu_seconds(proc.pid) for name, proc in servers.items()}
    posts_before = await posts(receiver)
    loader = await asyncio.create_subprocess_exec(
        str(VENV_BIN / "python"),
        "-m",
        "bench.open_loop",
        "--port",
        str(pipeline.port),
        "--path",
        pipeline.filing,
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
    machine += f" -> {report.pressure()}"
    cpu_ms = {
        name: 1000 * (cpu_seconds(proc.pid) - cpu_before[name]) for name, proc in servers.items()
    }
    # After the 201: relay, Kafka, consumer, POST (what the poll settings could lengthen).
    after_ms = [1000 * (came[i] - answered[i]) for i in answered if i in came]
    hops = stages.hops(answered, came, await stages.times(environment, KIND, list(filed)))
    filing_cpu_ms = sum(ms for name, ms in cpu_ms.items() if name != pipeline.delivering)
    extra: dict[str, Any] = {
        "not_filed": len(failed),
        "first_failure": failed[0] if failed else None,
        "filing_p50_ms": round(percentile(answer_ms, 50), 1),
        "after_answer_p50_ms": round(percentile(after_ms, 50), 1),
        "after_answer_p99_ms": round(percentile(after_ms, 99), 1),
        "filing_p99_ms": round(percentile(answer_ms, 99), 1),
        "hops_p50_p99_ms": {name: _spread(values) for name, values in hops.items()},
        "webhooks_delivered": delivered,
        # The deliverer's per webhook; the rest's (filing and relay) per filing.
        "cpu_ms": {name: round(ms) for name, ms in cpu_ms.items()},
        "delivery_cpu_ms_per_webhook": round(cpu_ms[pipeline.delivering] / max(1, delivered), 2),
        "filing_cpu_ms_per_filing": round(filing_cpu_ms / max(1, len(filed)), 2),
        "machine": machine,
    }
    if profiling is not None:
        for name, file in (await profiling).items():
            summary = profile.summarise(file)
            file.with_suffix(".summary.txt").write_text(summary + "\n")
            extra[f"{name}_profile"] = str(file.with_suffix(".summary.txt"))
    return _summary(f"{pipeline.label} at {rate:.0f}/s", filed, came, extra)


async def _floor_run(
    opts: argparse.Namespace,
    receiver: str,
    rate: float,
    environment: Environment,
    *,
    quiet: bool = False,
) -> dict[str, Any]:
    out = STATE / f"e2e-floor-{int(rate)}.json"
    machine = report.pressure()
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
    machine += f" -> {report.pressure()}"
    return _summary(f"Kafka floor at {rate:.0f}/s", due, came, {"machine": machine})


async def _raw_path(
    opts: argparse.Namespace,
    environment: Environment,
    env: dict[str, str],
    receiver: str,
    templates: str,
    tokens: Path,
) -> dict[str, Any]:
    """The raw path floor at each rate: the raw floor's filings (copies of `templates`, each of
    its requester's, so that their approval tasks go to the broker's filings' CDOs, keys and
    partitions), the plain relay and the plain consumer, POSTing to the receiver those CDOs
    registered."""
    logs = state_dir("logs")
    nonce = secrets.token_hex(4)
    ready = STATE / f"e2e-raw-ready-{nonce}"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    floor = [*floor_argv("bench.raw_floor", port, templates), "--notify", raw_path.CHANNEL]
    plain = [str(VENV_BIN / "python"), "-m", "bench.raw_path"]
    relay = [*plain, "relay", "--bootstrap", environment.kafka]
    consume = [
        *plain, "consume", "--bootstrap", environment.kafka, "--group",
        f"cdo-bench-raw-path-{nonce}", "--ready", str(ready),
    ]  # fmt: skip
    receiver_argv = [*plain[:2], "bench.receiver", "--port", receiver.rpartition(":")[2]]

    async def assigned() -> bool:
        return ready.exists()

    results: dict[str, Any] = {}
    async with (
        running("receiver", receiver_argv, env, logs, ready_url=f"{receiver}/count"),
        running("raw-floor", floor, env, logs, ready_url=f"{url}/healthz") as server,
        running("raw-relay", relay, env, logs) as relaying,
        running("raw-consumer", consume, env, logs, ready=assigned) as consumer,
        httpx.AsyncClient(base_url=url) as http,
    ):
        bearer = tokens.read_text().split()[0]  # noqa: ASYNC240 (before the load)

        await wait_until(
            lambda: _probe_arrives(http, RAW_FILING, bearer, receiver),
            limit_s=90,
            what="the raw path's first webhook",
        )
        servers = {"raw-floor": server, "raw-relay": relaying, "raw-consumer": consumer}
        pipeline = Pipeline("raw path", port, RAW_FILING, servers, delivering="raw-consumer")
        for rate in opts.rates:
            results[str(rate)] = await _filing_run(
                opts, environment, pipeline, receiver, rate, tokens
            )
    ready.unlink(missing_ok=True)
    return results


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
    templates: list[str] = []  # a filing of each requester: the raw path's filings copy them
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

            await wait_until(
                lambda: _probe_arrives(http, "/v1/requests", tokens[0], receiver),
                limit_s=90,
                what="the notifier's first webhook",
            )
            templates += [await clients.file_template(http, bearer) for bearer in tokens]
        servers = {"broker": broker, "notifier": notifier}
        idle_before = {name: cpu_seconds(proc.pid) for name, proc in servers.items()}
        await asyncio.sleep(IDLE_S)  # the idle polling every delivery's figure includes
        results["idle_cpu_ms_per_s"] = {
            name: round(1000 * (cpu_seconds(proc.pid) - idle_before[name]) / IDLE_S, 1)
            for name, proc in servers.items()
        }
        pipeline = Pipeline("broker", port, "/v1/requests", servers, delivering="notifier")
        for rate in opts.rates:
            results["broker"][str(rate)] = await _filing_run(
                opts, environment, pipeline, receiver, rate, tokens_file
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
    results["raw"] = await _raw_path(
        opts, environment, env, receiver, ",".join(templates), tokens_file
    )
    _print(opts, results, peak)
    report.save(
        "e2e",
        {"machine": report.machine(), "settings": vars(opts), "results": results, "peak_rss": peak},
    )


def _both(
    ours: dict[str, Any], raw: dict[str, Any], label: str, figure: str, *, spread: bool = False
) -> None:
    """A figure of the broker's path and of the raw path (the Kafka floor has none); `spread`:
    its p50/p99."""
    value = "{:.0f}/{:.0f}" if spread else "{:.1f}"
    keys = (f"{figure}_p50_ms", f"{figure}_p99_ms") if spread else (figure,)
    ours_text, raw_text = (value.format(*(side[k] for k in keys)) for side in (ours, raw))
    print(report.line(label, ours_text, "", "", raw_text))


def _print(opts: argparse.Namespace, results: dict[str, Any], peak: dict[str, int]) -> None:
    report.header(
        f"submission → first CDO webhook, open loop, {opts.seconds:.0f}s per rate",
        columns=("broker", "Kafka floor", "ratio", "raw path", "ratio"),
    )
    for rate in opts.rates:
        ours, floor, raw = (results[side][str(rate)] for side in ("broker", "floor", "raw"))
        print(f" {rate:.0f} requests/s")
        for key in ("p50_ms", "p99_ms"):
            print(
                report.line(
                    f"{key[:3]} latency (ms)",
                    f"{ours[key]:.1f}",
                    f"{floor[key]:.1f}",
                    f"{ours[key] / floor[key]:.2f}x",
                    f"{raw[key]:.1f}",
                    f"{ours[key] / raw[key]:.2f}x",
                )
            )
        # How much of the goal's 3x the broker path's durable effects take when the plainest
        # code writes them: what is left is the broker's own share.
        share = raw["p99_ms"] / floor["p99_ms"]
        print(f"  (the raw path's own p99 is {share:.2f}x the Kafka floor's)")
        print(
            report.line(
                "arrived / sent",
                *(f"{side['arrived']}/{side['sent']}" for side in (ours, floor)),
                "",
                f"{raw['arrived']}/{raw['sent']}",
            )
        )

        _both(ours, raw, "filing answered p50/p99 (ms)", "filing", spread=True)
        _both(ours, raw, "answer → webhook p50/p99 (ms)", "after_answer", spread=True)
        for hop, spread in ours["hops_p50_p99_ms"].items():
            raw_spread = raw["hops_p50_p99_ms"].get(hop, "")
            print(report.line(f"  {hop.replace('_', ' ')} (ms)", spread, "", "", raw_spread))
        _both(ours, raw, "CPU: filing and relay per filing (ms)", "filing_cpu_ms_per_filing")
        _both(ours, raw, "CPU: delivering per webhook (ms)", "delivery_cpu_ms_per_webhook")
        for name, side in (("broker", ours), ("Kafka floor", floor), ("raw path", raw)):
            print(f"  machine, {name}: {side['machine']}")
        for name, path in ((k, v) for k, v in (ours | raw).items() if k.endswith("_profile")):
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
    print(
        "  (ratios: broker / floor. The goal is p99 ≤ 3x issue 17's Kafka floor and ≤ 250 ms;"
        "\n  the raw path floor writes the broker path's durable effects in the plainest code)"
    )


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[100, 300])
    parser.add_argument("--seconds", type=float, default=15, help="seconds of load per rate")
    parser.add_argument("--settle", type=float, default=60, help="seconds to wait for stragglers")
    parser.add_argument("--requesters", type=int, default=10)
    profile.add_option(parser, "py-spy broker and notifier for S seconds of each rate's load")
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
