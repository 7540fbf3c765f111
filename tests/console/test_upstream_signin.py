"""Signing in through an upstream OpenID Connect provider (OIDC_UPSTREAM_*), the province's
unified sign-on, played here by a second broker on another host name (`localhost`; the console
is on 127.0.0.1, so their cookies are apart): the console sends the browser there, the person
signs in there, and comes back signed in here as the person whose username the ID token's
`preferred_username` names. A flow this browser did not start, an answer without a code and a
code the provider did not issue are all refused, in words, and sign no one in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from broker.oauth.clients import create_client
from broker.people.service import NewPerson
from testing.apps import served_broker
from testing.clients import Sessions
from testing.people import csrf_of, new_person
from testing.processes import free_port
from testing.settings import Settings

pytestmark = pytest.mark.integration

CALLBACK = "/console/signin/upstream/callback"


@dataclass(frozen=True)
class Pair:
    upstream: str  # the provider's URL (http://localhost:…)
    console: str  # the console trusting it (http://127.0.0.1:…)


@pytest.fixture
async def pair(
    request: pytest.FixtureRequest, settings: Settings, sessionmaker: Sessions, seeded: object
) -> AsyncIterator[Pair]:
    """The provider and the console; the console maps people by `request.param`, a claim
    (default: `preferred_username`)."""
    claim = getattr(request, "param", "preferred_username")
    port = free_port()
    console = f"http://127.0.0.1:{port}"
    async with sessionmaker() as session:
        client, secret = await create_client(
            session, organisation_id="gd-dsb", scope="openid profile",
            redirect_uris=[f"{console}{CALLBACK}"],
        )  # fmt: skip
        await session.commit()
    async with served_broker(settings, host="localhost") as upstream, served_broker(
        settings, port=port, oidc_upstream_issuer=upstream,
        oidc_upstream_client_id=client.id, oidc_upstream_client_secret=secret,
        oidc_upstream_claim=claim,
    ):  # fmt: skip
        yield Pair(upstream, console)


async def _sign_in_at(browser: httpx.AsyncClient, provider: str, person: NewPerson) -> None:
    """At the provider's own sign-in page, as a person types it."""
    form = await browser.get(f"{provider}/console/signin")
    assert form.status_code == 200, form.text
    signed = await browser.post(
        f"{provider}/console/signin",
        data={"username": person.person.username, "password": person.password,
              "csrf": csrf_of(form.text), "next": "/console/"},
    )  # fmt: skip
    assert signed.status_code == 303, signed.text


async def test_a_person_signs_in_through_the_unified_sign_on(
    pair: Pair, settings: Settings, sessionmaker: Sessions
) -> None:
    person = await new_person(sessionmaker, settings, "gz-gaj", "staff")
    async with httpx.AsyncClient(base_url=pair.console, follow_redirects=False) as browser:
        page = await browser.get("/console/signin")
        assert "使用全省统一身份认证登录" in page.text
        left = await browser.get("/console/signin/upstream", params={"next": "/console/grants"})
        assert left.status_code == 303
        to_provider = left.headers["location"]
        assert to_provider.startswith(f"{pair.upstream}/oauth/authorize?")
        asked = parse_qs(urlsplit(to_provider).query)
        assert asked["code_challenge_method"] == ["S256"]
        assert {"state", "nonce", "code_challenge"} <= set(asked)

        # not signed in at the provider: its sign-in page, then back to its authorize
        at_provider = await browser.get(to_provider)
        assert at_provider.status_code == 303
        await _sign_in_at(browser, pair.upstream, person)
        with_code = await browser.get(to_provider)
        assert with_code.status_code == 302, with_code.text
        back = with_code.headers["location"]
        assert back.startswith(f"{pair.console}{CALLBACK}?")

        signed_in = await browser.get(back)
        assert signed_in.status_code == 303, signed_in.text
        assert signed_in.headers["location"] == "/console/grants"
        grants = await browser.get("/console/grants")

    assert grants.status_code == 200
    assert person.person.name in grants.text
    async with httpx.AsyncClient(base_url=pair.console) as stranger:
        replayed = await stranger.get(back)  # another browser: not its flow
    assert replayed.status_code == 401
    assert "登录已失效" in replayed.text


async def test_the_unified_sign_on_refuses_what_is_not_a_sign_in(pair: Pair) -> None:
    async with httpx.AsyncClient(base_url=pair.console) as browser:
        left = await browser.get("/console/signin/upstream")
        state = parse_qs(urlsplit(left.headers["location"]).query)["state"][0]
        wrong_state = await browser.get(CALLBACK, params={"state": "x" + state, "code": "c"})
        assert wrong_state.status_code == 401
        assert "登录已失效" in wrong_state.text

        left = await browser.get("/console/signin/upstream")
        state = parse_qs(urlsplit(left.headers["location"]).query)["state"][0]
        cancelled = await browser.get(CALLBACK, params={"state": state, "error": "access_denied"})
        assert cancelled.status_code == 401
        assert "未完成统一身份认证" in cancelled.text

        left = await browser.get("/console/signin/upstream")
        state = parse_qs(urlsplit(left.headers["location"]).query)["state"][0]
        forged = await browser.get(CALLBACK, params={"state": state, "code": "not-a-code"})
        assert forged.status_code == 401
        assert "统一身份认证未通过" in forged.text

        grants = await browser.get("/console/grants")
    assert grants.status_code == 303  # nobody signed in: sent to sign in
    assert grants.headers["location"].startswith("/console/signin")


@pytest.mark.parametrize("pair", ["name"], indirect=True)  # a claim that names no username
async def test_a_person_the_console_does_not_know_is_not_signed_in(
    pair: Pair, settings: Settings, sessionmaker: Sessions
) -> None:
    person = await new_person(sessionmaker, settings, "gz-gaj", "staff")
    async with httpx.AsyncClient(base_url=pair.console) as browser:
        left = await browser.get("/console/signin/upstream")
        await _sign_in_at(browser, pair.upstream, person)
        with_code = await browser.get(left.headers["location"])
        back = await browser.get(with_code.headers["location"])
        grants = await browser.get("/console/grants")

    assert back.status_code == 403
    assert "统一身份认证的账号在本系统中没有对应人员" in back.text
    assert grants.status_code == 303
    assert grants.headers["location"].startswith("/console/signin")
