"""The load process: files requests at a steady rate (open loop: each on its own schedule,
whatever the earlier ones are waiting for) with real tokens of the seeded bodies' demo clients,
each with an Idempotency-Key so that retrying after a timeout, a dropped connection or a 503 is
safe. A request counts as accepted once a 201 or 200 names it.

    python -m bench.faults.load --brokers URL,URL --clients FILE --requests N --rate R --out FILE
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bench.faults.calls import Brokers, GaveUp, Tally, problem_type, token
from broker.seed.pilot import load_pilot
from testing import workloads
from testing.workloads import Filing, filings

SUBMIT_SCOPE = "requests:submit requests:read"


class Load:
    def __init__(self, brokers: Brokers, tokens: dict[str, str], run_id: str, give_up_s: float):
        self._brokers = brokers
        self._tokens = tokens
        self._run_id = run_id
        self._give_up_s = give_up_s
        self.accepted: dict[str, dict[str, Any]] = {}  # idempotency key: what the broker said
        self.refused: list[dict[str, Any]] = []  # 4xx: a bug of the load or of the broker
        self.gave_up: list[str] = []
        self.latencies_ms: list[float] = []
        self.in_flight = 0
        self.repeats = 0  # a retry answered 200: the first attempt had been filed after all
        self.started = time.monotonic()
        self.per_10s: Counter[int] = Counter()  # acceptances per 10 s of the run: the faults show

    async def file(self, filing: Filing) -> None:
        key = f"{self._run_id}-{filing.index}"
        started = time.monotonic()
        self.in_flight += 1
        try:
            response = await self._brokers.call(
                "POST",
                "/v1/requests",
                give_up_s=self._give_up_s,
                what=f"filing {key}",
                json=filing.body,
                headers={
                    "Authorization": f"Bearer {self._tokens[filing.requester_id]}",
                    "Idempotency-Key": key,
                },
            )
        except GaveUp:
            self.gave_up.append(key)
            return
        finally:
            self.in_flight -= 1
        if response.status_code in (200, 201):
            body = response.json()
            self.accepted[key] = {
                "id": body["id"],
                "kind": filing.kind,
                "requester_id": filing.requester_id,
                "status": body["status"],
                "http": response.status_code,
            }
            self.repeats += response.status_code == 200
            self.per_10s[int((time.monotonic() - self.started) // 10)] += 1
            self.latencies_ms.append((time.monotonic() - started) * 1000)
        else:
            self.refused.append(
                {
                    "key": key,
                    "kind": filing.kind,
                    "status": response.status_code,
                    "type": problem_type(response),
                    "body": response.text[:500],
                }
            )


def _percentile(values: list[float], q: float) -> float | None:
    if len(values) < 2:
        return values[0] if values else None
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def run(args: argparse.Namespace, clients: dict[str, dict[str, str]]) -> dict[str, Any]:
    work = filings(load_pilot(), args.requests, args.seed)
    tally = Tally()
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=100)
    timeout = httpx.Timeout(args.timeout, connect=3.0)
    async with httpx.AsyncClient(limits=limits, timeout=timeout, trust_env=False) as http:
        brokers = Brokers(args.brokers.split(","), http, tally)
        tokens = {}
        for org in sorted({f.requester_id for f in work}):
            c = clients[org]
            tokens[org] = await token(brokers, c["client_id"], c["client_secret"], SUBMIT_SCOPE)
        load = Load(brokers, tokens, args.run_id, args.give_up)
        print(f"load: {len(work)} filings at {args.rate}/s by {len(tokens)} bodies", flush=True)
        started = load.started = time.monotonic()
        tasks: set[asyncio.Task[None]] = set()
        next_report = started + 10
        # Open loop: the schedule, not the answers, sets the pace.
        async for index, _ in workloads.paced(len(work), args.rate):
            filing = work[index]
            task = asyncio.create_task(load.file(filing))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            if time.monotonic() >= next_report:
                next_report += 10
                print(
                    f"load: t={time.monotonic() - started:.0f}s sent={filing.index + 1} "
                    f"accepted={len(load.accepted)} in_flight={load.in_flight} "
                    f"attempts={dict(tally.attempts)}",
                    flush=True,
                )
        sent_s = time.monotonic() - started
        if tasks:
            await asyncio.gather(*tasks)
    duration = time.monotonic() - started
    result = {
        "requests": len(work),
        "rate": args.rate,
        "send_seconds": round(sent_s, 1),
        "seconds": round(duration, 1),
        "accepted": load.accepted,
        "accepted_by_kind": dict(Counter(a["kind"] for a in load.accepted.values())),
        "repeats": load.repeats,
        "accepted_per_10s": [load.per_10s[i] for i in range(max(load.per_10s, default=-1) + 1)],
        "refused": load.refused,
        "gave_up": load.gave_up,
        "latency_ms": {
            "p50": _percentile(load.latencies_ms, 50),
            "p99": _percentile(load.latencies_ms, 99),
            "max": max(load.latencies_ms, default=None),
        },
        **tally.as_dict(),
    }
    print(
        f"load: done in {duration:.0f}s: accepted={len(load.accepted)} refused="
        f"{len(load.refused)} gave_up={len(load.gave_up)} unexpected_5xx="
        f"{len(tally.unexpected_5xx)}",
        flush=True,
    )
    return result


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.faults.load")
    parser.add_argument("--brokers", required=True, help="comma-separated base URLs")
    parser.add_argument("--clients", required=True, help="seed-pilot --clients file")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=40.0, help="filings per second")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--run-id", required=True, help="prefix of the Idempotency-Keys")
    parser.add_argument("--timeout", type=float, default=30.0, help="per attempt, seconds")
    parser.add_argument("--give-up", type=float, default=600.0, help="per filing, seconds")
    parser.add_argument("--out", required=True)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    result = asyncio.run(run(args, json.loads(Path(args.clients).read_text())))
    Path(args.out).write_text(json.dumps(result, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
