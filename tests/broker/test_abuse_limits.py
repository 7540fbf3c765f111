"""Abuse limits: rate limits answer 429 with Retry-After and recover; bodies and pages are
bounded; failed client authentications lock the caller out for a while, and no outsider can aim
a lockout or a rate at another client (oauth/lockout.py)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.kit.ratelimit import RateLimiter
from broker.oauth import revocation
from broker.settings import Rate
from core.models.requests import DataRequest
from testing.apps import broker_with
from testing.audit import audit_mark, audited_since
from testing.clients import ALL_SCOPES, TokenFactory, bearer, claims_of, new_client
from testing.settings import Settings
from testing.waiting import wait_until
from testing.workloads import request_body

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"
TOKEN_FORM = {"grant_type": "client_credentials", "scope": "requests:read"}


def _prefix() -> str:
    return f"test:rl:{secrets.token_hex(6)}"  # buckets no other test (or test run) shares


async def _count(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(DataRequest)) or 0


@pytest.fixture
async def own_client(
    sessionmaker: async_sessionmaker[AsyncSession], city_department: str
) -> tuple[str, str]:
    """A new client that may ask for tokens and introspect them: (id, secret)."""
    return await new_client(sessionmaker, city_department, "requests:read tokens:introspect")


def _filing() -> dict[str, Any]:
    return request_body("gz-gaj-household-migration", ["id_number"])


def test_rates_parse() -> None:
    assert Rate.parse("120/minute") == Rate(120, 60.0)
    assert Rate.parse("5/300s") == Rate(5, 300.0)
    assert Rate.parse(" 3 / second ") == Rate(3, 1.0)
    for bad in ("", "120", "0/minute", "5/fortnight", "-1/second", "5/0s"):
        with pytest.raises(ValueError, match=r"rate|positive"):
            Rate.parse(bad)
    with pytest.raises(ValueError, match="is not a rate"):
        Settings.model_validate({"RATE_LIMIT_TOKEN": "lots"})


async def test_token_requests_over_the_rate_get_429_then_recover(
    app: FastAPI,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    city_department: str,
) -> None:
    client_id, secret = await new_client(sessionmaker, city_department, "requests:read")
    # A window of seconds, not one: four calls must fall in it on a loaded machine too.
    limits = {"rate_limit_token": "3/8s", "rate_limit_prefix": _prefix()}
    async with broker_with(app, settings, **limits) as http:

        async def token() -> httpx.Response:
            return await http.post("/oauth/token", data=TOKEN_FORM, auth=(client_id, secret))

        within = [await token() for _ in range(3)]
        over = await token()
        assert [r.status_code for r in within] == [200, 200, 200]
        assert over.status_code == 429, over.text
        assert over.json()["error"] == "too_many_requests"
        assert 1 <= int(over.headers["retry-after"]) <= 8
        assert over.headers["cache-control"] == "no-store"

        async def recovered() -> bool:
            return (await token()).status_code == 200

        await wait_until(recovered, limit_s=20, what="the token rate limit to recover")


async def test_filings_over_the_rate_get_429_problem_then_recover(
    app: FastAPI,
    settings: Settings,
    token_for: TokenFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    headers = bearer(await token_for("gz-rsj", ALL_SCOPES))
    limits = {"rate_limit_submit": "2/8s", "rate_limit_prefix": _prefix()}
    async with broker_with(app, settings, **limits) as http:

        async def file() -> httpx.Response:
            return await http.post("/v1/requests", headers=headers, json=_filing())

        within = [await file() for _ in range(2)]
        before = await _count(sessionmaker)
        over = await file()
        assert [r.status_code for r in within] == [201, 201]
        assert over.status_code == 429, over.text
        assert over.headers["content-type"] == PROBLEM
        assert over.json()["type"].endswith("/rate-limited")
        assert int(over.headers["retry-after"]) >= 1
        assert await _count(sessionmaker) == before

        async def recovered() -> bool:
            return (await file()).status_code == 201

        await wait_until(recovered, limit_s=20, what="the filing rate limit to recover")


async def test_a_revoked_token_files_nothing_and_spends_none_of_its_organisations_rate(
    app: FastAPI,
    settings: Settings,
    token_for: TokenFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
) -> None:
    # The filing checks the revocation and counts the rate in one script: the count must not
    # run for a revoked token, or its holder could use up the organisation's allowance.
    kept, revoked = [await token_for("gz-rsj", ALL_SCOPES) for _ in range(2)]
    await revocation.revoke(redis, claims_of(revoked)["jti"], seconds_left=600)
    limits = {"rate_limit_submit": "2/60s", "rate_limit_prefix": _prefix()}
    async with broker_with(app, settings, **limits) as http:
        before = await _count(sessionmaker)
        refused = [
            await http.post("/v1/requests", headers=bearer(revoked), json=_filing())
            for _ in range(3)
        ]
        assert {r.status_code for r in refused} == {401}
        assert refused[0].json()["type"].endswith("/invalid-token")
        assert "revoked" in refused[0].headers["www-authenticate"]
        assert await _count(sessionmaker) == before
        within = [
            await http.post("/v1/requests", headers=bearer(kept), json=_filing()) for _ in range(2)
        ]
        assert [r.status_code for r in within] == [201, 201]


async def test_a_token_without_the_filing_scope_files_nothing(
    app: FastAPI,
    settings: Settings,
    token_for: TokenFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """403 for a token of the body that lacks `requests:submit`: no request, no audit row, and
    none of the organisation's filing rate spent."""
    reader, filer = (
        await token_for("gz-rsj", "requests:read"),
        await token_for("gz-rsj", ALL_SCOPES),
    )
    limits = {"rate_limit_submit": "1/60s", "rate_limit_prefix": _prefix()}
    async with broker_with(app, settings, **limits) as http:
        before, mark = await _count(sessionmaker), await audit_mark(sessionmaker)
        refused = [
            await http.post("/v1/requests", headers=bearer(reader), json=_filing())
            for _ in range(2)
        ]
        assert {r.status_code for r in refused} == {403}
        assert await _count(sessionmaker) == before
        assert await audited_since(sessionmaker, mark, actor="gz-rsj") == []
        filed = await http.post("/v1/requests", headers=bearer(filer), json=_filing())
        assert filed.status_code == 201, filed.text


async def test_an_oversized_body_is_413_and_nothing_is_stored(
    client: httpx.AsyncClient,
    token_for: TokenFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    headers = bearer(await token_for("gz-rsj", ALL_SCOPES))
    before = await _count(sessionmaker)
    body = _filing() | {"purpose": "x" * (settings.max_body_bytes + 1)}

    response = await client.post("/v1/requests", headers=headers, json=body)

    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith("/payload-too-large")
    assert await _count(sessionmaker) == before


async def test_a_chunked_body_is_counted_as_it_streams(
    client: httpx.AsyncClient,
    token_for: TokenFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    headers = bearer(await token_for("gz-rsj", ALL_SCOPES)) | {"Content-Type": "application/json"}
    small = httpx.Response(200, json=_filing()).content

    async def chunks(data: bytes, size: int = 4096) -> AsyncIterator[bytes]:
        for start in range(0, len(data), size):
            yield data[start : start + size]

    before = await _count(sessionmaker)
    huge = small[:-1] + b', "padding": "' + b"x" * settings.max_body_bytes + b'"}'
    refused = await client.post("/v1/requests", headers=headers, content=chunks(huge))
    accepted = await client.post("/v1/requests", headers=headers, content=chunks(small, 100))

    assert "content-length" not in refused.request.headers
    assert refused.status_code == 413, refused.text
    assert refused.headers["content-type"] == PROBLEM
    assert accepted.status_code == 201, accepted.text
    assert await _count(sessionmaker) == before + 1


async def test_a_body_that_is_not_utf8_is_a_4xx_problem(
    client: httpx.AsyncClient, token_for: TokenFactory
) -> None:
    headers = bearer(await token_for("gz-rsj", ALL_SCOPES)) | {"Content-Type": "application/json"}

    response = await client.post(
        "/v1/requests", headers=headers, content=b'{"purpose": "\xff\xfe"}'
    )

    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"] == PROBLEM


async def test_a_huge_page_size_is_422(client: httpx.AsyncClient, token_for: TokenFactory) -> None:
    headers = bearer(await token_for("gz-rsj", ALL_SCOPES))

    response = await client.get("/v1/requests", headers=headers, params={"limit": 100_000})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "limit"


async def test_repeated_wrong_secrets_lock_that_client_out_at_that_address_then_it_recovers(
    app: FastAPI, settings: Settings, own_client: tuple[str, str]
) -> None:
    client_id, secret = own_client
    limits = {
        "auth_failure_limit": "5/30s",
        "auth_lockout_seconds": 1.0,
        "auth_lockout_max_seconds": 2.0,
        "rate_limit_prefix": _prefix(),
    }
    async with broker_with(app, settings, client_address=ATTACKER, **limits) as http:

        async def token(with_secret: str) -> httpx.Response:
            return await http.post("/oauth/token", data=TOKEN_FORM, auth=(client_id, with_secret))

        wrong = [await token("cs_wrong") for _ in range(5)]
        sixth = await token("cs_wrong")
        right = await token(secret)  # not even checked while the pair is locked
        introspect = await http.post(
            "/oauth/introspect", data={"token": "x"}, auth=(client_id, secret)
        )

        assert [r.status_code for r in wrong] == [401] * 5
        for locked in (sixth, right, introspect):
            assert locked.status_code == 429, locked.text
            assert locked.json()["error"] == "too_many_requests"
            assert 1 <= int(locked.headers["retry-after"]) <= 2

        async def recovered() -> bool:
            return (await token(secret)).status_code == 200

        await wait_until(recovered, limit_s=5, what="the lockout to end")


ATTACKER, VICTIM, PROXY = "203.0.113.9", "198.51.100.7", "10.0.0.1"


async def test_an_outsider_with_a_victims_id_cannot_lock_it_out_nor_spend_its_rate(
    app: FastAPI, settings: Settings, own_client: tuple[str, str]
) -> None:
    """The client id is in every token the victim used: anyone may know it."""
    client_id, secret = own_client
    limits = {
        "auth_failure_limit": "5/300s",
        "auth_lockout_seconds": 300.0,
        "rate_limit_token": "6/minute",
        "rate_limit_prefix": _prefix(),
    }
    async with (
        broker_with(app, settings, client_address=ATTACKER, **limits) as outsider,
        broker_with(app, settings, client_address=VICTIM, **limits) as victim,
    ):
        tries = [
            await outsider.post("/oauth/token", data=TOKEN_FORM, auth=(client_id, f"cs_guess{n}"))
            for n in range(8)
        ]
        assert [r.status_code for r in tries] == [401] * 5 + [429] * 3

        for _ in range(6):  # its whole rate, untouched by the outsider's eight calls
            own = await victim.post("/oauth/token", data=TOKEN_FORM, auth=(client_id, secret))
            assert own.status_code == 200, own.text
        introspect = await victim.post(
            "/oauth/introspect", data={"token": "x"}, auth=(client_id, secret)
        )
        assert introspect.status_code == 200, introspect.text


async def test_failures_with_random_ids_behind_a_proxy_lock_out_no_known_client(
    app: FastAPI, settings: Settings, own_client: tuple[str, str]
) -> None:
    """Every caller behind a proxy the broker does not trust has the proxy's address."""
    client_id, secret = own_client
    limits = {
        "auth_failure_limit_address": "100/300s",
        "auth_lockout_seconds": 300.0,
        "rate_limit_prefix": _prefix(),
    }
    async with broker_with(app, settings, client_address=PROXY, **limits) as http:
        flood = [
            await http.post(
                "/oauth/token", data=TOKEN_FORM, auth=(f"cli_{secrets.token_hex(8)}", "cs_x")
            )
            for _ in range(101)
        ]
        assert [r.status_code for r in flood] == [401] * 100 + [429]
        assert "from this address" in flood[-1].json()["error_description"]

        known = await http.post("/oauth/token", data=TOKEN_FORM, auth=(client_id, secret))
        assert known.status_code == 200, known.text
        unknown = await http.post("/oauth/token", data=TOKEN_FORM, auth=("cli_other", "cs_x"))
        assert unknown.status_code == 429  # unknown ids stay locked out at that address


async def test_lockouts_double_up_to_the_cap(redis: Redis) -> None:
    limiter = RateLimiter(redis, prefix=_prefix(), timeout_s=2.0)
    five = Rate(5, 60.0)

    async def strike() -> list[int]:
        return [
            await limiter.failed("auth", "client:c", five, lockout_s=10, lockout_max_s=25)
            for _ in range(5)
        ]

    assert await strike() == [0, 0, 0, 0, 10]
    assert await strike() == [0, 0, 0, 0, 20]
    assert await strike() == [0, 0, 0, 0, 25]
    assert 24 <= await limiter.locked_for("auth", "client:other", "client:c") <= 25
    assert await limiter.locked_for("auth", "client:other") == 0


async def test_admit_answers_lockout_and_rate_in_one_call(redis: Redis) -> None:
    limiter = RateLimiter(redis, prefix=_prefix(), timeout_s=2.0)
    two = Rate(2, 60.0)
    callers = ["c@a", "unknown@a"]
    assert [await limiter.admit("auth", callers, "token", "c@a", two) for _ in range(2)] == [
        ((0, 0), 0),
        ((0, 0), 0),
    ]
    locked, wait = await limiter.admit("auth", callers, "token", "c@a", two)
    assert locked == (0, 0)
    assert 59 <= wait <= 60
    await limiter.failed("auth", "unknown@a", Rate(1, 60.0), lockout_s=10, lockout_max_s=10)
    assert (await limiter.admit("auth", callers, "token", "other@a", two))[0] == (0, 10)
    assert await limiter.admit("auth", ["c@b"], "token", None, two) == ((0,), 0)


async def test_hit_unless_counts_nothing_while_a_refusing_key_exists(redis: Redis) -> None:
    limiter = RateLimiter(redis, prefix=_prefix(), timeout_s=2.0)
    one, refusing = Rate(1, 60.0), f"{_prefix()}:revoked"
    assert await limiter.hit_unless("submit", "o", one, [refusing]) == (0, False)
    await redis.set(refusing, b"1", ex=60)
    assert await limiter.hit_unless("submit", "p", one, [refusing]) == (0, True)
    assert await limiter.hit_unless("submit", "p", one, []) == (0, False)  # nothing was counted
    wait, refused = await limiter.hit_unless("submit", "o", one, [f"{refusing}:none"])
    assert (59 <= wait <= 60, refused) == (True, False)


async def test_limits_hold_when_redis_has_forgotten_their_scripts(redis: Redis) -> None:
    # A restarted or failed-over Redis knows no script: the call loads it and counts as before.
    limiter = RateLimiter(redis, prefix=_prefix(), timeout_s=2.0)
    two = Rate(2, 60.0)
    waits = []
    for _ in range(3):
        await redis.script_flush()
        waits.append((await limiter.admit("auth", ["c@a"], "token", "c@a", two))[1])
    assert waits[:2] == [0, 0]
    assert 59 <= waits[2] <= 60
    await redis.script_flush()
    assert await limiter.failed("auth", "c@a", Rate(1, 60.0), lockout_s=10, lockout_max_s=10) == 10
    await redis.script_flush()
    assert (await limiter.admit("auth", ["c@a"], "token", None, two))[0] == (10,)


async def test_limits_fail_open_without_redis() -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0")
    try:
        limiter = RateLimiter(dead, prefix=_prefix(), timeout_s=1.0)
        one = Rate(1, 60.0)
        assert [await limiter.hit("token", "c", one) for _ in range(3)] == [0, 0, 0]
        assert await limiter.failed("auth", "c", one, lockout_s=10, lockout_max_s=10) == 0
        assert await limiter.locked_for("auth", "c") == 0
        assert await limiter.admit("auth", ["c"], "token", "c", one) == ((0,), 0)
        assert await limiter.hit_unless("token", "c", one, ["k"]) == (0, None)  # ask again
    finally:
        await dead.aclose()
    assert await RateLimiter(None, prefix="x", timeout_s=1.0).hit("token", "c", one) == 0
