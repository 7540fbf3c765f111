"""What `bench/scale` measures on each database: the calls a CDO and a requester make, through
the app in this process (ASGI transport, no server, no relay or SLA loop running), and the jobs
and tools an operator runs. The calls are timed in alternating slices, one side then the other,
so that what else the shared machine does at a given minute weighs on both columns alike."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, text

from bench import clients
from bench.environment import Environment, app_in_process
from broker.directory import repository as directory_repository
from broker.outbox.archive import archive_all
from broker.requests import sla
from broker.requests.links import Links
from core.clock import utcnow
from testing import workloads

BUSY_CDO = "gd-gat"  # the provider of every bench filing: decides the second step of each
QUIET_CDO = "gz-th-gov"  # a county government: few requests to decide
REPORT_READER = "gd-dsb"
CITY_READER = "gz-dsb"  # Guangzhou's data bureau: the report bounded by one city's jurisdiction
RETENTION_DAYS = 30  # ARCHIVE_AFTER_DAYS's default
TABLES = (
    "requests", "request_steps", "step_approvers", "decisions", "escalations", "grants",
    "grant_changes", "outbox_events", "outbox_archive", "webhook_deliveries",
    "webhook_deliveries_archive", "webhook_attempts", "audit_log", "organisations",
    "cdo_appointments", "datasets",
)  # fmt: skip


def percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * percent / 100))]


@dataclass
class Side:
    """One database and the app over it, with its callers' tokens."""

    environment: Environment
    http: httpx.AsyncClient
    app: Any
    tokens: dict[str, str]
    requesters: list[str] = field(default_factory=lambda: workloads.requesters(3))
    filed: list[tuple[str, str]] = field(default_factory=list)
    times: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    page_items: dict[str, int] = field(default_factory=dict)  # a queue's page: requests on it

    async def timed(self, name: str, call: Callable[[], Awaitable[None]], times: int) -> None:
        cpu = time.process_time()
        for _ in range(times):
            started = time.perf_counter()
            await call()
            self.times.setdefault(name, []).append(1000 * (time.perf_counter() - started))
        self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - cpu

    async def get(self, path: str, org: str) -> httpx.Response:
        answer = await self.http.get(path, headers={"Authorization": f"Bearer {self.tokens[org]}"})
        answer.raise_for_status()
        return answer

    async def file(self) -> None:
        org = self.requesters[len(self.filed) % len(self.requesters)]
        answer = await self.http.post(
            "/v1/requests",
            json=workloads.body(f"bench scale {secrets.token_hex(4)}"),
            headers={"Authorization": f"Bearer {self.tokens[org]}",
                     "Idempotency-Key": secrets.token_hex(8)},
        )  # fmt: skip
        answer.raise_for_status()
        self.filed.append((org, answer.json()["id"]))

    async def timeline(self) -> None:
        org, request_id = self.filed[len(self.times.get("timeline", [])) % len(self.filed)]
        await self.get(f"/v1/requests/{request_id}/timeline", org)


@asynccontextmanager
async def side(environment: Environment) -> AsyncIterator[Side]:
    app = await app_in_process(environment, fresh=False)
    made = await clients.create_clients(
        environment,
        dict.fromkeys(workloads.requesters(3), clients.CALLER_SCOPES)
        | dict.fromkeys((BUSY_CDO, QUIET_CDO), clients.CALLER_SCOPES)
        | dict.fromkeys((REPORT_READER, CITY_READER), "reports:read"),
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
            tokens = {org: await clients.token(http, made[org]) for org in made}
            yield Side(environment, http, app, tokens)


async def calls(sides: list[Side], *, filings: int, reads: int, rounds: int) -> None:
    """Each call measured `filings` or `reads` times on each side, in `rounds` alternating
    slices, after a few of each to warm the caches."""
    now = utcnow()
    window = f"from={(now - timedelta(days=365)).isoformat()}&to={now.isoformat()}"
    window = window.replace("+", "%2B")
    for warm in sides:
        for _ in range(5):
            await warm.file()
    for n in range(rounds):
        for s in sides:
            await s.timed("filing", s.file, filings // rounds)
            for name, org in (("queue busy", BUSY_CDO), ("queue quiet", QUIET_CDO)):

                async def queue(s: Side = s, org: str = org, name: str = name) -> None:
                    page = await s.get("/v1/requests?role=approver&limit=20", org)
                    s.page_items[name] = len(page.json()["items"])

                await s.timed(name, queue, reads // rounds)
            await s.timed("timeline", s.timeline, reads // rounds)
            if n < 2:  # two of each report a side: each takes seconds on the province
                for name, path, reader in (
                    ("report province", f"cdo-evaluation?{window}", REPORT_READER),
                    ("report city level", f"cdo-evaluation?{window}&level=city", REPORT_READER),
                    ("report one city", f"cdo-evaluation?{window}", CITY_READER),
                    ("scorecard province", f"cdo-scorecard?{window}", REPORT_READER),
                ):

                    async def report(s: Side = s, path: str = path, reader: str = reader) -> None:
                        await s.get(f"/v1/reports/{path}", reader)

                    await s.timed(name, report, 1)


def call_figures(s: Side) -> dict[str, float]:
    t = s.times
    return {
        "filing p50 ms": percentile(t["filing"], 50),
        "filing p99 ms": percentile(t["filing"], 99),
        "filing CPU ms": 1000 * s.cpu["filing"] / len(t["filing"]),
        "queue p50 ms (busy CDO)": percentile(t["queue busy"], 50),
        "queue p99 ms (busy CDO)": percentile(t["queue busy"], 99),
        "queue p50 ms (quiet CDO)": percentile(t["queue quiet"], 50),
        "queue p99 ms (quiet CDO)": percentile(t["queue quiet"], 99),
        "queue page requests (busy CDO)": s.page_items["queue busy"],
        "queue page requests (quiet CDO)": s.page_items["queue quiet"],
        "timeline p50 ms": percentile(t["timeline"], 50),
        "timeline p99 ms": percentile(t["timeline"], 99),
        "report 1 year ms (province)": min(t["report province"]),
        "report 1 year ms (city level)": min(t["report city level"]),
        "report 1 year ms (one city: Guangzhou)": min(t["report one city"]),
        "scorecard 1 year ms (province)": min(t["scorecard province"]),
    }


async def operations(s: Side, archived_before: datetime | None = None) -> dict[str, float]:
    """The SLA job's pass, the directory cache, the tables' sizes, and what is left past the
    retention: past `archived_before`, the cutoff the archive ran with, where it ran (a history
    runs up to now, so rows keep crossing the retention after the archive, as they do between
    two daily archives); else past the retention now."""
    figures: dict[str, float] = {}
    sessions = s.app.state.sessionmaker
    started = time.perf_counter()
    links = Links("http://127.0.0.1:8000", "http://127.0.0.1:8000/console")
    await sla.run_once(sessions, policy=s.app.state.routing_policy, links=links)
    figures["SLA pass ms"] = 1000 * (time.perf_counter() - started)
    figures |= await _directory_cache(sessions)
    async with sessions() as session:
        for table in TABLES:
            size = await session.scalar(text(f"SELECT pg_total_relation_size('{table}')"))
            figures[f"size MiB {table}"] = (size or 0) / 2**20
        database = await session.scalar(text("SELECT pg_database_size(current_database())"))
        figures["size MiB database"] = (database or 0) / 2**20
        cutoff = {"cutoff": archived_before or utcnow() - timedelta(days=RETENTION_DAYS)}
        figures["sent outbox rows past retention"] = (
            await session.scalar(
                text("SELECT count(*) FROM outbox_events WHERE sent_at < :cutoff"), cutoff
            )
            or 0
        )
        figures["delivered deliveries past retention"] = await session.scalar(
            text("SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'"
                 " AND delivered_at < :cutoff"), cutoff
        ) or 0  # fmt: skip
        count = await session.scalar(text("SELECT count(*) FROM requests"))
        figures["requests in history"] = count or 0
    return figures


async def archive(s: Side) -> tuple[float, datetime]:
    """`cdo-broker archive`'s work, timed: on a history written whole, all it owes at once.
    Returns the seconds it took and the cutoff it archived before."""
    started = time.perf_counter()
    before = utcnow() - timedelta(days=RETENTION_DAYS)
    await archive_all(s.app.state.sessionmaker, before=before)
    return time.perf_counter() - started, before


async def _directory_cache(sessions: Any) -> dict[str, float]:
    """How long a process takes to load and build the directory after a change, and what it
    then keeps (traced allocations of the cached rows and the snapshot built from them)."""
    directory_repository._cached.clear()
    async with sessions() as session:
        columns = directory_repository.version_columns("postgresql")
        version = tuple((await session.execute(select(*columns))).one())
        started = time.perf_counter()
        await directory_repository.directory_snapshot(session, utcnow(), version)
        rebuilt = time.perf_counter() - started
        directory_repository._cached.clear()
        tracemalloc.start()  # apart from the timing: tracing slows every allocation
        await directory_repository.directory_snapshot(session, utcnow(), version)
        kept, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {"directory rebuild ms": 1000 * rebuilt, "directory cache MiB": kept / 2**20}


def audit_verify(environment: Environment) -> dict[str, float]:
    """`cdo-broker audit verify` as an operator runs it: its time, and its peak resident
    memory (VmHWM, read while it runs: a child's rusage would count the parent it forked)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cdo_cli", "audit", "verify"],
        env=environment.server_env() | {"PYTHONPATH": os.pathsep.join(sys.path)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    started, peak_kib = time.perf_counter(), 0
    status = Path(f"/proc/{process.pid}/status")
    while process.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak_kib = max(peak_kib, int(line.split()[1]))
        except OSError:
            break  # it ended between poll() and the read
        time.sleep(0.05)
    taken = time.perf_counter() - started
    if process.wait() != 0:
        assert process.stderr is not None
        raise SystemExit(f"bench: audit verify failed: {process.stderr.read().decode()}")
    return {"audit verify s": taken, "audit verify peak RSS MiB": peak_kib / 1024}
