"""`bench/run decision_cpu`: CPU, SQL statements and Redis round trips per decision, in one
process.

Each decision is a CDO's approval of the first step of a two-step request (bench/submissions'
filings: the requesting city's government CDO, then the provider department's), so it closes
one step, opens the next and tells its CDO: `POST /v1/requests/{id}/decision`. The requests are
filed first (not measured); then each is decided once, one call at a time, through httpx's ASGI
transport with the relay and SLA job off and the grant feed polling once a minute (as
bench/token_cpu.py, whose tally this uses). `--profile S` records the process with py-spy
(`--gil`: samples holding the GIL, so waits on the sockets are left out) for the first S seconds
of the measured loop and prints the summary (bench/profile.py). SQLAlchemy's asyncio layer runs
the session's work in greenlets, which py-spy shows as stacks of their own, rooted at
`Session.execute`, `Session.commit` ... without the broker's caller: the project's shares in the
summary leave that work out.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import time

import httpx

from bench import clients, profile
from bench.environment import Environment, app_in_process, state_dir
from bench.token_cpu import Tally
from testing import workloads

APPROVE = {"decision": "approve", "comment": "依职责所需，同意。"}
WARM = 20  # decisions before the measured ones: the statement caches


async def _file(http: httpx.AsyncClient, bearer: str, i: int) -> str:
    answer = await http.post(
        "/v1/requests",
        json=workloads.body(f"bench decision {secrets.token_hex(4)} {i}"),
        headers={"Authorization": f"Bearer {bearer}", "Idempotency-Key": secrets.token_hex(8)},
    )
    answer.raise_for_status()
    return str(answer.json()["id"])


async def _recorded(seconds: int) -> str:
    out = state_dir("profiles") / "decision-cpu.txt"
    summary = profile.summarise(await profile.record(os.getpid(), seconds, out, gil=True))
    out.with_suffix(".summary.txt").write_text(summary + "\n")
    return summary


async def main(opts: argparse.Namespace) -> None:
    environment = Environment()
    app = await app_in_process(environment, fresh=opts.fresh)
    requesters = workloads.requesters(3)
    deciders = {org: workloads.first_approver_of(org) for org in requesters}
    made = await clients.create_clients(
        environment,
        dict.fromkeys(requesters, clients.CALLER_SCOPES)
        | dict.fromkeys(deciders.values(), clients.CALLER_SCOPES),
    )
    tally = Tally()
    tally.watch_redis()
    async with app.router.lifespan_context(app):
        tally.watch_engine(app.state.engine.sync_engine)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
            filers = [await clients.token(http, made[org]) for org in requesters]
            approvers = [await clients.token(http, made[deciders[org]]) for org in requesters]
            pending = [
                (await _file(http, filers[i % 3], i), approvers[i % 3])
                for i in range(WARM + opts.decisions)
            ]

            async def one(i: int) -> None:
                request_id, bearer = pending[i]
                answer = await http.post(
                    f"/v1/requests/{request_id}/decision",
                    json=APPROVE,
                    headers={"Authorization": f"Bearer {bearer}"},
                )
                answer.raise_for_status()
                if answer.json()["route"][0]["status"] != "approved":
                    raise SystemExit("bench: the first step was not approved")

            for i in range(WARM):
                await one(i)
            tally.counts.clear()
            recording = asyncio.ensure_future(_recorded(opts.profile)) if opts.profile else None
            cpu, wall = time.process_time(), time.perf_counter()
            for i in range(WARM, WARM + opts.decisions):
                await one(i)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"{opts.decisions} decisions: {1000 * cpu / opts.decisions:.2f} ms CPU,"
        f" {1000 * wall / opts.decisions:.2f} ms each; {tally.per_call(opts.decisions)}"
    )
    if recording is not None:
        print(await recording)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=300)
    parser.add_argument("--fresh", action="store_true", help="empty and seed the database first")
    profile.add_option(parser, "seconds of py-spy (--gil) over the measured decisions")
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
