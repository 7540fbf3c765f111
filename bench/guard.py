"""`bench/guard`: GrantGuard's checks per second against bare JWT verification in the same
process and minute, and the time from a grant's revocation to the guard's first refusal.

Checks: one real grant token, checked over and over in this process (one core, no HTTP): the
guard's whole decision (`TokenChecker.check`: header, key lookup, RS256 signature, typ, iss,
aud, exp, the `data_grant` for the dataset, the feed's word on the grant) against the least any
verifier does (joserfc's `jwt.decode` with the key in hand, then iss, aud and exp). The two
alternate in 20 slices per round, so both see the same machine.

Revocations: a grant is issued (an unconditional filing), its token accepted by the guard, then
revoked through `POST /v1/grants/{id}/revoke`; the time from sending the revocation to the first
refused check (polled every millisecond), `--revocations` times. Twice: revoking through the
broker process the guard follows (its commit wakes that process's feed), and through a second
broker process on the same database (seen at its next read, every GRANT_FEED_POLL_INTERVAL).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import RSAKey
from joserfc.jwt import JWTClaimsRegistry

from bench import clients, report
from bench.environment import Environment, fresh_database, state_dir
from cdo_broker_client import GrantGuard
from cdo_broker_client.grants import unverified_claims
from cdo_broker_client.guard import Refused
from testing.processes import broker_argv, free_port, running
from testing.waiting import TimedOut, wait_until

PROVIDER = "gd-rst"
REQUESTER = "gz-gaj"


def pressure() -> str:
    """CPU pressure ("some" avg10, %): the share of time runnable tasks waited for a CPU."""
    try:
        some = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except OSError:
        return "unknown"
    return dict(f.split("=") for f in some.split()[1:])["avg10"] + " %"


async def _calls(check: Callable[[], Awaitable[object]], seconds: float) -> tuple[int, float]:
    calls, start = 0, time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for _ in range(50):
            await check()
        calls += 50
        await asyncio.sleep(0)  # checks never wait: let the guard's feed follower run
    return calls, time.perf_counter() - start


async def _rates(
    first: Callable[[], Awaitable[object]],
    second: Callable[[], Awaitable[object]],
    seconds: float,
    slices: int = 20,
) -> tuple[float, float]:
    """Calls per second of each, measured in alternating slices, so that both see the same
    machine (on a shared one, its load changes within seconds)."""
    totals = [[0, 0.0], [0, 0.0]]
    for _ in range(slices):
        for total, check in zip(totals, (first, second), strict=True):
            calls, took = await _calls(check, seconds / slices)
            total[0] += calls
            total[1] += took
    return totals[0][0] / totals[0][1], totals[1][0] / totals[1][1]


async def _checks(
    guard: GrantGuard, url: str, token: str, dataset: str, opts: argparse.Namespace
) -> list[dict[str, Any]]:
    assert guard.checker is not None
    checker = guard.checker
    async with httpx.AsyncClient() as http:
        jwks = (await http.get(f"{url}/.well-known/jwks.json")).json()["keys"]
    header = jwt.decode(token, RSAKey.import_key(jwks[0])).header
    key = RSAKey.import_key(next(k for k in jwks if k["kid"] == header["kid"]))
    registry = JWTClaimsRegistry(
        iss={"essential": True, "value": url},
        aud={"essential": True, "value": url},
        exp={"essential": True},
    )

    async def bare() -> object:
        decoded = jwt.decode(token, key, algorithms=["RS256"])
        registry.validate(decoded.claims)
        return decoded

    async def guarded() -> object:
        return await checker.check(token, dataset)

    await guarded()  # raises if the guard would refuse: nothing below would mean anything
    rounds = []
    for number in range(1, opts.rounds + 1):
        await _rates(bare, guarded, 1.0)  # warm
        before = pressure()
        bare_rate, guard_rate = await _rates(bare, guarded, opts.seconds)
        after = pressure()
        ratio = report.ratio(guard_rate, bare_rate)
        print(
            f"  round {number}: guard {guard_rate:,.0f} checks/s, bare verification "
            f"{bare_rate:,.0f}/s, ratio {ratio:.2f} (CPU pressure {before} -> {after})"
        )
        rounds.append(
            {"guard_per_s": round(guard_rate), "bare_per_s": round(bare_rate), "ratio": ratio,
             "cpu_pressure_before": before, "cpu_pressure_after": after}
        )  # fmt: skip
    return rounds


async def _refused(guard: GrantGuard, token: str, dataset: str) -> bool:
    assert guard.checker is not None
    try:
        await guard.checker.check(token, dataset)
    except Refused:
        return True
    return False


async def _revocations(
    guard: GrantGuard,
    follows: str,
    revokes_at: str,
    requester: clients.Client,
    provider: clients.Client,
    count: int,
) -> dict[str, Any]:
    times, after_answer = [], []
    before = pressure()
    async with httpx.AsyncClient(base_url=follows) as issuer, httpx.AsyncClient() as http:
        provider_token = await clients.token(issuer, provider)
        for _ in range(count):
            await clients.file_for_grant(issuer, requester)
            token = await clients.token(issuer, requester, clients.GRANT_SCOPE)
            grant_id = _grant_id(token)
            if await _refused(guard, token, clients.UNCONDITIONAL):
                raise SystemExit("bench: the guard refused a grant it should serve")
            sent = time.perf_counter()
            revoked = await http.post(
                f"{revokes_at}/v1/grants/{grant_id}/revoke",
                headers={"Authorization": f"Bearer {provider_token}"},
                json={"reason": "bench: revocation to refusal"},
            )
            answered = time.perf_counter()
            revoked.raise_for_status()
            try:
                await wait_until(
                    partial(_refused, guard, token, clients.UNCONDITIONAL),
                    limit_s=30, poll_s=0.001, what="the guard to refuse the revoked grant",
                )  # fmt: skip
            except TimedOut:
                raise SystemExit(
                    f"bench: grant {grant_id} still served 30 s after revoking"
                ) from None
            refused = time.perf_counter()
            times.append(refused - sent)
            after_answer.append(refused - answered)
    return {
        "count": count,
        "p50_s": round(statistics.median(times), 3),
        "p99_s": round(_p99(times), 3),
        "max_s": round(max(times), 3),
        "p99_after_answer_s": round(_p99(after_answer), 3),
        "cpu_pressure_before": before,
        "cpu_pressure_after": pressure(),
    }


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * len(ordered) + 0.5) - 1)]


def _grant_id(token: str) -> str:
    return str(unverified_claims(token)["authorization_details"][0]["grant_id"])


async def _trivial_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def main(opts: argparse.Namespace) -> None:
    environment = Environment()
    logs = state_dir("logs")
    print(f"bench/guard: fresh database {environment.database}")
    await fresh_database(environment)
    made = await clients.create_clients(
        environment,
        {REQUESTER: clients.CALLER_SCOPES,
         PROVIDER: "grants:read grants:revoke tokens:introspect"},
    )  # fmt: skip
    ports = free_port(), free_port()
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    env = environment.server_env(
        OAUTH_ISSUER=urls[0], OUTBOX_RELAY="false", SLA_JOB="false",
        GRANT_FEED_POLL_INTERVAL=str(opts.poll_interval),
    )  # fmt: skip
    figures: dict[str, Any] = {}
    async with (
        running("broker", broker_argv(ports[0]), env, logs, ready_url=f"{urls[0]}/healthz"),
        running("broker-2", broker_argv(ports[1]), env, logs, ready_url=f"{urls[1]}/healthz"),
    ):
        provider = made[PROVIDER]
        guard = GrantGuard(
            _trivial_app, broker_url=urls[0], client_id=provider.client_id,
            client_secret=provider.secret, datasets=[], report_uses_every_s=3600,
        )  # fmt: skip
        async with guard.running():
            await asyncio.wait_for(guard.follower.ready.wait(), 30)
            async with httpx.AsyncClient(base_url=urls[0]) as http:
                await clients.file_for_grant(http, made[REQUESTER])
                token = await clients.token(http, made[REQUESTER], clients.GRANT_SCOPE)
            print(f"\nchecks of one grant token, {opts.seconds}s of each per round, in slices")
            figures["checks"] = await _checks(guard, urls[0], token, clients.UNCONDITIONAL, opts)
            for name, revokes_at in (("same_replica", urls[0]), ("other_replica", urls[1])):
                print(f"\n{opts.revocations} revocations through {name.replace('_', ' ')}")
                result = await _revocations(
                    guard, urls[0], revokes_at, made[REQUESTER], provider, opts.revocations
                )
                print(
                    f"  revocation to refusal: p50 {result['p50_s'] * 1000:.0f} ms, p99 "
                    f"{result['p99_s'] * 1000:.0f} ms, max {result['max_s'] * 1000:.0f} ms "
                    f"(p99 after the revocation's answer {result['p99_after_answer_s'] * 1000:.0f}"
                    f" ms; CPU pressure {result['cpu_pressure_before']} -> "
                    f"{result['cpu_pressure_after']})"
                )
                figures[name] = result
    report.save("guard", {"machine": report.machine(), "settings": vars(opts)} | figures)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=10, help="measured seconds of each, per round"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--revocations", type=int, default=50, help="per replica case")
    parser.add_argument(
        "--poll-interval", type=float, default=0.5, help="GRANT_FEED_POLL_INTERVAL, seconds"
    )
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
