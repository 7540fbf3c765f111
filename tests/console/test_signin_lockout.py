"""Failed console sign-ins lock out the (username, address) pair that failed, as failed client
authentications do at the token endpoint: the right password is then refused there, in words,
while the same person signs in from elsewhere, and others from the same address go on. Sign-ins
from one address are limited to RATE_LIMIT_SIGNIN. Signing out takes a POST with the session's
CSRF token; the session's cookie is HTTP-only, SameSite=Lax, and Secure behind https."""

from __future__ import annotations

import secrets

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from broker.people import sessions
from broker.people.service import NewPerson
from core.models.people import PersonSession
from testing.apps import broker_with
from testing.clients import Sessions
from testing.people import csrf_of, new_person, own_address, sign_in, sign_in_as
from testing.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
async def person(sessionmaker: Sessions, settings: Settings) -> NewPerson:
    return await new_person(sessionmaker, settings, "gz-gaj", "staff")


async def _wrong(browser: httpx.AsyncClient, username: str) -> int:
    return (await sign_in_as(browser, username, "not-the-password")).status_code


async def _sessions_of(sessionmaker: Sessions, person: NewPerson) -> int:
    async with sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).where(PersonSession.person_id == person.person.id)
        )
    return int(count or 0)


async def test_failed_sign_ins_lock_the_username_at_that_address(
    app: FastAPI, settings: Settings, sessionmaker: Sessions, person: NewPerson
) -> None:
    other = await new_person(sessionmaker, settings, "gz-gaj", "staff")
    here, elsewhere = own_address(), own_address()

    async with broker_with(
        app, settings, client_address=here, auth_failure_limit="3/300s", auth_lockout_seconds=120.0
    ) as browser:
        refused = [
            await sign_in_as(browser, person.person.username, "not-the-password") for _ in range(3)
        ]
        right_password = await sign_in(browser, person)
        someone_else = await sign_in(browser, other)

    assert [r.status_code for r in refused] == [401, 401, 429]
    assert "用户名、密码或动态口令不正确" in refused[0].text
    assert right_password.status_code == 429
    assert "登录失败次数过多，请 2 分钟后再试" in right_password.text
    assert 0 < int(right_password.headers["Retry-After"]) <= 120
    assert await _sessions_of(sessionmaker, person) == 0  # the password was not even checked
    assert someone_else.status_code == 303

    async with broker_with(
        app, settings, client_address=elsewhere, auth_failure_limit="3/300s"
    ) as browser:
        from_elsewhere = await sign_in(browser, person)
    assert from_elsewhere.status_code == 303
    assert await _sessions_of(sessionmaker, person) == 1


async def test_unknown_usernames_lock_out_as_known_ones_do(
    app: FastAPI, settings: Settings, person: NewPerson
) -> None:
    """No answer tells whether a username exists."""
    nobody = f"nobody-{secrets.token_hex(4)}"

    async with broker_with(
        app, settings, client_address=own_address(), auth_failure_limit="2/300s"
    ) as browser:
        known = [await _wrong(browser, person.person.username) for _ in range(3)]
        unknown = [await _wrong(browser, nobody) for _ in range(3)]

    assert known == unknown == [401, 429, 429]


async def test_sign_ins_from_one_address_are_rate_limited(
    app: FastAPI, settings: Settings, person: NewPerson
) -> None:

    async with broker_with(
        app, settings, client_address=own_address(), rate_limit_signin="3/minute"
    ) as browser:
        answers = [await _wrong(browser, person.person.username) for _ in range(3)]
        over = await sign_in(browser, person)

    assert answers == [401, 401, 401]
    assert over.status_code == 429
    assert "Retry-After" in over.headers


async def test_a_sign_in_form_needs_its_token_before_anything_is_counted(
    app: FastAPI, settings: Settings, sessionmaker: Sessions, person: NewPerson
) -> None:
    async with broker_with(app, settings, client_address=own_address()) as browser:
        forged = await browser.post(
            "/console/signin",
            data={"username": person.person.username, "password": person.password},
        )
    assert forged.status_code == 403
    assert await _sessions_of(sessionmaker, person) == 0


async def test_signing_out_takes_a_post_with_the_token(
    app: FastAPI, settings: Settings, person: NewPerson
) -> None:
    async with broker_with(app, settings, client_address=own_address()) as browser:
        await sign_in(browser, person)
        by_link = await browser.get("/console/signout")
        without_token = await browser.post("/console/signout", data={})
        still_in = await browser.get("/console/grants")
        csrf = csrf_of(still_in.text)
        out = await browser.post("/console/signout", data={"csrf": csrf})
        after = await browser.get("/console/grants")

    assert by_link.status_code == 200  # a question, with the form below: a link ends nothing
    assert 'id="signout-form"' in by_link.text
    assert without_token.status_code == 403
    assert still_in.status_code == 200
    assert out.status_code == 303
    assert after.status_code == 303
    assert after.headers["location"].startswith("/console/signin")


async def test_the_session_cookie_is_http_only_and_secure_behind_https(
    app: FastAPI, settings: Settings, person: NewPerson
) -> None:
    cookies = {}
    for issuer in ("https://cdo.gd.gov.cn", "http://127.0.0.1:8000"):
        async with broker_with(
            app, settings, client_address=own_address(), issuer=issuer
        ) as browser:
            browser.base_url = issuer  # a Secure cookie goes back over https only
            signed = await sign_in(browser, person)
        assert signed.status_code == 303, signed.text
        [cookies[issuer]] = [
            c.lower() for c in signed.headers.get_list("set-cookie")
            if c.startswith(f"{sessions.COOKIE}=")
        ]  # fmt: skip

    secure = cookies["https://cdo.gd.gov.cn"]
    assert {"httponly", "secure", "samesite=lax", "path=/"} <= {
        part.strip() for part in secure.split(";")
    }
    # a loopback development issuer: plain http, so the browser would drop a Secure cookie
    assert "secure" not in {part.strip() for part in cookies["http://127.0.0.1:8000"].split(";")}
    assert "httponly" in cookies["http://127.0.0.1:8000"]
