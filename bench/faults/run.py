"""The fault run: a steady load on two brokers while Kafka, the notifiers, a broker, PostgreSQL
and Redis are killed or restarted under it; then, once the system has recovered, the figures.

Processes: the stack (deploy/local/stack, own state dir and ports), two `cdo-broker serve` on one
database (each with its outbox relay and SLA job), one or two `cdo-broker notifier`, the CDO
systems (bench/faults/cdo_systems.py) and the load (bench/faults/load.py), each in its own process.
This one schedules the faults, reads back the topics and, at the end, the database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.faults import figures, prepare
from bench.faults.figures import Progress
from bench.faults.tally import KafkaTally
from core.db import create_engine
from testing import REPO_ROOT
from testing.processes import Service, answers, cli, free_port, module
from testing.stacks import Stack
from testing.waiting import TimedOut, wait_until

log = logging.getLogger("chaos")
# Inherited settings that would change what runs; the run sets its own.
_OWN_PREFIXES = ("OTEL_", "WEBHOOK_", "RATE_LIMIT_", "OUTBOX_", "NOTIFIER_", "SLA_", "OAUTH_")


@dataclass
class Timeline:
    started: float = field(default_factory=time.monotonic)
    entries: list[str] = field(default_factory=list)

    def note(self, what: str) -> None:
        entry = f"t={time.monotonic() - self.started:6.1f}s  {what}"
        self.entries.append(entry)
        print(f"chaos: {entry}", flush=True)


def _environment(args: argparse.Namespace, exports: dict[str, str], run: Path) -> dict[str, str]:
    key_file, fernet = prepare.keys(run / "keys")
    short = {args.short_sla_rule: args.short_sla} if args.short_sla_rule else {}
    policy = prepare.short_sla_policy(run, args.sla, args.reminder, short)
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
    env.update(exports)
    env.update(
        BROKER_DEV_KEY_DIR=str(run / "keys"),
        OAUTH_SIGNING_KEY_FILES=str(key_file),
        WEBHOOK_SECRET_KEY=fernet,
        ACCESS_TOKEN_TTL="7200",  # the run's tokens outlive it
        ROUTING_POLICY_FILE=str(policy),
        SLA_CHECK_INTERVAL=str(args.sla_check),
        # The limits would refuse a load test's single clients; the limiter still runs.
        RATE_LIMIT_SUBMIT="10000000/minute",
        RATE_LIMIT_TOKEN="10000000/minute",
        RATE_LIMIT_PREFIX="cdo:chaos:rl",
        WEBHOOK_ALLOW_PRIVATE_URLS="true",
        WEBHOOK_TIMEOUT=str(args.webhook_timeout),
        WEBHOOK_RETRY_SCHEDULE=args.retry_schedule,
        WEBHOOK_CONCURRENCY_PER_ENDPOINT=str(args.concurrency_per_endpoint),
        NOTIFIER_GROUP_ID=f"chaos-notifier-{run.name}",
        NOTIFIER_START_AT="earliest",
        PYTHONUNBUFFERED="1",
    )
    return env


class FaultRun:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.run_id = time.strftime("%Y%m%d-%H%M%S")
        self.stack = Stack(
            Path(args.state_dir), args.kafka_port, args.pg_port, args.redis_port, args.kafka_nodes
        )
        self.dir = Path(args.state_dir) / "chaos-runs" / self.run_id
        self.dir.mkdir(parents=True, exist_ok=True)
        self.timeline = Timeline()
        self.brokers: list[Service] = []
        self.notifiers: list[Service] = []
        self.helpers: list[Service] = []
        self.faults_done: list[dict[str, Any]] = []
        self.load_at_start = _load_average()

    # --- set-up

    async def start(self) -> tuple[dict[str, str], KafkaTally]:
        note = self.timeline.note
        note(f"stack up ({self.args.kafka_nodes} Kafka node(s)) in {self.args.state_dir}")
        exports = await self.stack.up()
        note(f"stack answers: {exports['KAFKA_BOOTSTRAP_SERVERS']}; fresh database and Redis")
        env = _environment(self.args, exports, self.dir)
        await prepare.fresh_database(env, self.dir / "clients.json")
        await prepare.empty_redis(exports["REDIS_URL"])
        tally = KafkaTally(exports["KAFKA_BOOTSTRAP_SERVERS"])
        await tally.mark_start(env["NOTIFIER_GROUP_ID"])

        ports = [free_port() for _ in range(2)]
        env["OAUTH_ISSUER"] = f"http://127.0.0.1:{ports[0]}"  # both brokers are one issuer
        for number, port in enumerate(ports, 1):
            self.brokers.append(
                Service(
                    f"broker-{number}",
                    cli("serve", "--host", "127.0.0.1", "--port", str(port)),
                    env,
                    self.dir / f"broker-{number}.log",
                    ready_url=f"http://127.0.0.1:{port}/healthz",
                )
            )
        for number in range(1, self.args.notifiers + 1):
            health = free_port()  # its /healthz, /readyz and /metrics
            self.notifiers.append(
                Service(
                    f"notifier-{number}",
                    cli("notifier"),
                    {**env, "NOTIFIER_HTTP_PORT": str(health)},
                    self.dir / f"notifier-{number}.log",
                    ready_url=f"http://127.0.0.1:{health}/healthz",
                )
            )
        for service in self.brokers + self.notifiers:
            await service.start()
        note(f"brokers on ports {ports}, {len(self.notifiers)} notifier(s) started")
        return env, tally

    def _urls(self) -> str:
        return ",".join(s.ready_url.removesuffix("/healthz") for s in self.brokers if s.ready_url)

    async def start_cdo_systems(self, env: dict[str, str]) -> str:
        port = free_port()
        stats = f"http://127.0.0.1:{port}/stats"
        cdo = Service(
            "cdo-systems",
            module(
                "bench.faults.cdo_systems",
                *_flags(
                    brokers=self._urls(),
                    clients=self.dir / "clients.json",
                    port=port,
                    hang_seconds=self.args.webhook_timeout + 3,
                    out=self.dir / "cdo-systems.json",
                ),
            ),
            {**env, "PYTHONPATH": str(REPO_ROOT)},
            self.dir / "cdo-systems.log",
        )
        self.helpers.append(cdo)
        await cdo.start()

        async def registered() -> bool:
            if not cdo.running:
                raise RuntimeError(f"the CDO systems exited; see {cdo.log}")
            return bool(await answers(stats)) and bool((await _get_json(stats)).get("ready"))

        await wait_until(registered, limit_s=180, what="the CDO systems' webhook endpoints")
        self.timeline.note("CDO systems registered a webhook endpoint for every body")
        return stats

    def load(self, env: dict[str, str]) -> Service:
        return Service(
            "load",
            module(
                "bench.faults.load",
                *_flags(
                    brokers=self._urls(),
                    clients=self.dir / "clients.json",
                    requests=self.args.requests,
                    rate=self.args.rate,
                    run_id=self.run_id,
                    out=self.dir / "load.json",
                ),
            ),
            {**env, "PYTHONPATH": str(REPO_ROOT)},
            self.dir / "load.log",
        )

    # --- the faults

    def schedule(self) -> list[tuple[float, str, Callable[[], Awaitable[None]]]]:
        """(share of the load's duration, what, how): the faults in the order they happen."""
        second = self.notifiers[-1]  # with one notifier, the same one is killed twice
        node = 1 if self.args.kafka_nodes > 1 else None
        kafka = f"Kafka node {node}" if node is not None else "Kafka"
        return [
            (0.10, f"kill -9 {kafka}", lambda: self._kafka_outage(node)),
            (0.25, "kill -9 notifier-1", lambda: self._crash(self.notifiers[0])),
            (0.40, "kill -9 broker-2", lambda: self._crash(self.brokers[1])),
            (0.55, "restart PostgreSQL", self.stack.restart_postgres),
            (0.70, "restart Redis", self.stack.restart_redis),
            (0.85, f"kill -9 {second.name}", lambda: self._crash(second)),
        ]

    async def _kafka_outage(self, node: int | None) -> None:
        await self.stack.kill_kafka(node)
        self.timeline.note(f"  Kafka killed; down for {self.args.kafka_outage:.0f}s")
        await asyncio.sleep(self.args.kafka_outage)  # the length of the outage is the fault
        await self.stack.start_kafka(node)

    async def _crash(self, service: Service) -> None:
        await service.kill9()
        await asyncio.sleep(self.args.restart_after)  # how long it stays dead is the fault
        await service.start()

    async def inject_faults(self, load_started: float) -> None:
        duration = self.args.requests / self.args.rate
        for share, what, fault in self.schedule():
            delay = load_started + share * duration - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)  # the fault's place in the load's schedule
            began = time.monotonic()
            self.timeline.note(f"fault: {what}")
            await fault()
            took = time.monotonic() - began
            self.timeline.note(f"  recovered from '{what}' ({took:.1f}s)")
            self.faults_done.append({"fault": what, "at_s": round(began - load_started, 1),
                                     "seconds": round(took, 1)})  # fmt: skip

    # --- the run

    async def run(self) -> int:
        stop = asyncio.Event()
        tally_task: asyncio.Task[None] | None = None
        try:
            env, tally = await self.start()
            tally_task = asyncio.create_task(tally.run(stop))
            stats_url = await self.start_cdo_systems(env)
            load = self.load(env)
            self.helpers.append(load)
            await load.start()
            load_started = time.monotonic()
            self.timeline.note(f"load: {self.args.requests} filings at {self.args.rate}/s")
            faults = asyncio.create_task(self.inject_faults(load_started))
            assert load.process is not None
            await asyncio.wait_for(load.process.wait(), self.args.load_timeout)
            await faults
            if load.process.returncode != 0:
                raise RuntimeError(f"the load failed; see {load.log}")
            self.timeline.note("load finished and every fault is over: waiting for recovery")
            result = json.loads((self.dir / "load.json").read_text())
            engine = create_engine(env["DATABASE_URL"])
            try:
                recovered = await self.recover(engine, tally, stats_url)
                report = await figures.collect(engine, tally, result["accepted"])
            finally:
                await engine.dispose()
            cdo = await _get_json(stats_url)
            return self.report(report, result, cdo, recovered, tally)
        finally:
            stop.set()
            for service in [*self.helpers, *self.notifiers, *self.brokers]:
                await service.stop()
            if tally_task is not None:
                await tally_task
            if not self.args.keep_stack:
                await self.stack.down()

    async def recover(self, engine: Any, tally: KafkaTally, stats_url: str) -> float | None:
        """Seconds until nothing is left to publish, deliver or decide; None at the deadline."""
        began = time.monotonic()
        last: list[Progress] = []

        async def settled() -> bool:
            state = await figures.progress(engine, tally)
            in_flight = (await _get_json(stats_url)).get("decisions_in_flight", 0)
            if not last or state != last[-1]:
                self.timeline.note(f"  recovery: {state} decisions_in_flight={in_flight}")
            last[:] = [state]
            return state.settled and not in_flight and not state.pending_requests

        try:
            await wait_until(settled, limit_s=self.args.recovery_timeout, what="recovery", poll_s=2)
        except TimedOut:
            self.timeline.note(f"not recovered within {self.args.recovery_timeout:.0f}s")
            return None
        took = time.monotonic() - began
        self.timeline.note(f"recovered {took:.0f}s after the load and the faults ended")
        return took

    # --- the figures

    def report(
        self,
        db: dict[str, Any],
        load: dict[str, Any],
        cdo: dict[str, Any],
        recovered: float | None,
        tally: KafkaTally,
    ) -> int:
        errors = load["unexpected_5xx"] + cdo.get("unexpected_5xx", [])
        must = dict(db["must_be_zero"])
        must["unexpected_5xx"] = len(errors)
        must["bad_signatures"] = cdo.get("answered", {}).get("bad_signature", 0)
        must["dead_lettered"] = tally.dead_lettered  # every event of the run is valid
        status_503 = load["attempts"].get("503", 0) + cdo.get("attempts", {}).get("503", 0)
        total = time.monotonic() - self.timeline.started
        deliveries = db["deliveries"]
        lines = [
            "",
            f"fault run {self.run_id}: {self.args.requests} filings at {self.args.rate:g}/s, "
            f"{self.args.kafka_nodes} Kafka node(s), 2 brokers, {len(self.notifiers)} notifier(s)",
            f"  machine: {os.cpu_count()} CPUs, load average {self.load_at_start} at the start, "
            f"{_load_average()} at the end",
            f"  took {total:.0f}s in all: load {load['seconds']:.0f}s, recovery "
            + (f"{recovered:.0f}s" if recovered is not None else "NOT REACHED"),
            "  faults: " + "; ".join(_fault_line(f) for f in self.faults_done),
            "",
            f"accepted          {db['accepted']:>7}   by kind {load['accepted_by_kind']}; "
            f"{load['repeats']} answered 200 to a retry; refused {len(load['refused'])}, "
            f"given up {len(load['gave_up'])}",
            f"published         {db['published']:>7}   distinct ce_ids on Kafka "
            f"{db['published_by_topic']} ({db['kafka_duplicates']} duplicate messages read)",
            f"delivered         {deliveries.get('delivered', 0):>7}   webhook deliveries "
            f"{deliveries}; attempts {db['delivery_attempts']}",
            f"decided           {sum(db['decided'].values()):>7}   decisions {db['decided']}; "
            f"requests {db['request_status']}; escalations {db['escalations']}",
            f"grants issued     {db['grants_issued']:>7}",
            f"lost              {must['lost']:>7}   {_nonempty(db['lost_detail'])}",
            f"duplicate grants  {must['duplicate_grants']:>7}",
            f"requests stuck    {must['stuck']:>7}   {db['stuck_detail'] or ''}",
            f"unexpected 5xx    {must['unexpected_5xx']:>7}   (503 with Retry-After: "
            f"{status_503}) {errors[:5] if errors else ''}",
            "",
            f"also must be 0: approved without grant {must['approved_without_grant']}, "
            f"duplicate decisions {must['duplicate_decisions']}, "
            f"bad webhook signatures {must['bad_signatures']}, "
            f"messages dead-lettered {must['dead_lettered']}",
            f"CDO systems: answered {cdo.get('answered')}; decisions {cdo.get('decisions')}; "
            f"told decided {cdo.get('told_decided')}, granted {cdo.get('told_granted')}",
            f"load calls (tokens, filings) {load['attempts']}; "
            f"filing latency ms {load['latency_ms']}",
            f"accepted per 10 s of load: {load['accepted_per_10s']}",
            f"CDO system calls {cdo.get('attempts')}",
            "processes: " + ", ".join(_process_line(s) for s in self.brokers + self.notifiers),
            f"logs and figures: {self.dir}",
        ]
        print("\n".join(lines), flush=True)
        (self.dir / "report.json").write_text(
            json.dumps(
                {"must_be_zero": must, "db": db, "load": {k: v for k, v in load.items()
                 if k != "accepted"}, "cdo": cdo, "faults": self.faults_done,
                 "recovery_seconds": recovered, "total_seconds": round(total),
                 "timeline": self.timeline.entries, "kafka_tally_restarts": tally.restarts},
                indent=1, ensure_ascii=False,
            )
        )  # fmt: skip
        failed = {k: v for k, v in must.items() if v}
        if failed or recovered is None:
            print(f"FAILED: {failed or 'no recovery'}", flush=True)
            return 1
        print("PASSED: nothing lost, no duplicate grant, nothing stuck, no unexpected 5xx")
        return 0


def _flags(**options: object) -> list[str]:
    """`--name value` pairs of a helper's command line."""
    return [
        part
        for name, value in options.items()
        for part in (f"--{name}".replace("_", "-"), str(value))
    ]


def _fault_line(fault: dict[str, Any]) -> str:
    return f"{fault['fault']} at {fault['at_s']:.0f}s ({fault['seconds']:.0f}s)"


def _process_line(service: Service) -> str:
    return f"{service.name} started {service.starts}x, killed {service.kills}x"


def _load_average() -> str:
    """Other work on the machine competes with the run: its load average says how much."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _nonempty(detail: dict[str, list[str]]) -> str:
    return str({k: v for k, v in detail.items() if v}) if any(detail.values()) else ""


async def _get_json(url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
        body: dict[str, Any] = (await http.get(url)).json()
        return body


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/chaos",
        description="Fault run: steady load while Kafka, notifiers, a broker, PostgreSQL and "
        "Redis fail; exits 1 unless nothing is lost, duplicated, stuck or answered 5xx.",
    )
    add = parser.add_argument
    add("--requests", type=int, default=10_000, help="filings (default 10000; 500 for a smoke)")
    add("--rate", type=float, default=8.0, help="filings per second (default 8)")
    add("--kafka-nodes", type=int, choices=(1, 3), default=1)
    add("--notifiers", type=int, choices=(1, 2), default=2)
    add("--kafka-outage", type=float, default=20.0, help="seconds Kafka stays killed")
    add("--restart-after", type=float, default=2.0, help="seconds a killed process stays dead")
    add("--sla", type=int, default=600, help="every step's SLA, seconds")
    add("--reminder", type=int, default=120, help="reminder this long before the SLA ends")
    add(
        "--short-sla-rule",
        default="not-shareable-with-legal-basis",
        help="a policy rule whose steps get --short-sla instead ('' for none)",
    )
    add("--short-sla", type=int, default=60, help="seconds: lapses when webhooks keep failing")
    add("--sla-check", type=float, default=5.0, help="SLA_CHECK_INTERVAL, seconds")
    add("--webhook-timeout", type=float, default=3.0, help="WEBHOOK_TIMEOUT, seconds")
    add("--retry-schedule", default="1,2,4,8,15,30,45,60", help="WEBHOOK_RETRY_SCHEDULE")
    add("--concurrency-per-endpoint", type=int, default=4)
    add("--load-timeout", type=float, default=3600.0)
    add("--recovery-timeout", type=float, default=600.0)
    add("--keep-stack", action="store_true", help="leave the stack running afterwards")
    add("--state-dir", help="the stack's (default .stack-chaos, .stack-chaos-cluster for 3 nodes)")
    add("--kafka-port", type=int, default=int(os.environ.get("CHAOS_KAFKA_PORT", "39092")))
    add("--pg-port", type=int, default=int(os.environ.get("CHAOS_PG_PORT", "55632")))
    add("--redis-port", type=int, default=int(os.environ.get("CHAOS_REDIS_PORT", "56579")))
    args = parser.parse_args(argv)
    if args.state_dir is None:
        # A state dir keeps the node count it was made with: the cluster has its own.
        name = ".stack-chaos" if args.kafka_nodes == 1 else ".stack-chaos-cluster"
        args.state_dir = os.environ.get("CHAOS_STACK_DIR", str(REPO_ROOT / name))
    return args


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    # The read-back consumer reconnects by itself; its complaints while Kafka is down are noise.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    args = parse(argv)
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(FaultRun(args).run())
    return 130
