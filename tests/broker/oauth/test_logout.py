"""Signing out through the OpenID Connect provider (RP-initiated logout): the person's own ID
token as `id_token_hint` ends the session at once and sends the browser back to the client with
its `state`; a bare link (planted anywhere) only asks the person, on the console's sign-out
page, whose form carries the session's CSRF token; nobody is sent to an address the client did
not register."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from broker.people.service import NewPerson
from testing.apps import BASE_URL
from testing.audit import audit_mark, audited_since
from testing.clients import Sessions
from testing.oidc import REDIRECT, AsyncOAuth2Client, person_tokens
from testing.people import csrf_of, new_person, sign_in
from testing.settings import Settings

pytestmark = pytest.mark.integration


async def _signed_in(
    browser: httpx.AsyncClient, sessionmaker: Sessions, settings: Settings
) -> NewPerson:
    person = await new_person(sessionmaker, settings, "gz-rsj", "staff")
    assert (await sign_in(browser, person)).status_code == 303
    return person


async def _sign_outs(
    sessionmaker: Sessions, mark: int, person: NewPerson
) -> list[tuple[str, str | None, str | None]]:
    """The sign-outs audited since `mark` whose subject is `person`: (action, client, person)."""
    return [
        (row.action, row.client_id, row.person_id)
        for row in await audited_since(sessionmaker, mark, actor="gz-rsj")
        if row.action == "person.signed_out" and row.subject == person.person.id
    ]


async def _still_signed_in(browser: httpx.AsyncClient) -> bool:
    page = await browser.get("/console/grants")
    assert page.status_code in (200, 303), page.text
    return page.status_code == 200


async def test_the_persons_id_token_signs_them_out_and_back_to_the_client(
    relying_party: AsyncOAuth2Client,
    browser: httpx.AsyncClient,
    sessionmaker: Sessions,
    settings: Settings,
) -> None:
    await _signed_in(browser, sessionmaker, settings)
    tokens = await person_tokens(relying_party, browser)

    out = await browser.get(
        "/oauth/logout",
        params={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": REDIRECT,
                "state": "af0ifjsldkj"},
    )  # fmt: skip

    assert out.status_code == 303, out.text
    assert out.headers["location"] == f"{REDIRECT}?state=af0ifjsldkj"
    assert not await _still_signed_in(browser)


async def test_a_bare_logout_link_asks_the_person_first(
    relying_party: AsyncOAuth2Client,
    browser: httpx.AsyncClient,
    sessionmaker: Sessions,
    settings: Settings,
) -> None:
    await _signed_in(browser, sessionmaker, settings)
    asked = {"client_id": relying_party.client_id, "post_logout_redirect_uri": REDIRECT,
             "state": "s-1"}  # fmt: skip

    link = await browser.get("/oauth/logout", params=asked)

    assert link.status_code == 303
    assert link.headers["location"].startswith("/console/signout?")
    assert await _still_signed_in(browser)
    question = await browser.get(link.headers["location"])
    assert question.status_code == 200
    assert "确定退出登录吗？" in question.text
    forged = await browser.post("/console/signout", data=asked)  # a form without the token
    assert forged.status_code == 403
    assert await _still_signed_in(browser)

    confirmed = await browser.post(
        "/console/signout", data={"csrf": csrf_of(question.text), **asked}
    )

    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == f"{REDIRECT}?state=s-1"
    assert not await _still_signed_in(browser)


async def test_someone_elses_id_token_or_an_unregistered_address_changes_nothing(
    relying_party: AsyncOAuth2Client,
    browser: httpx.AsyncClient,
    app: FastAPI,
    sessionmaker: Sessions,
    settings: Settings,
) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as b:
        await _signed_in(b, sessionmaker, settings)
        others = await person_tokens(relying_party, b)
    me = await _signed_in(browser, sessionmaker, settings)
    mark = await audit_mark(sessionmaker)

    with_theirs = await browser.get("/oauth/logout", params={"id_token_hint": others["id_token"]})
    forged = await browser.get("/oauth/logout", params={"id_token_hint": "e30.e30.c2ln"})

    assert with_theirs.headers["location"].startswith("/console/signout")
    assert forged.headers["location"].startswith("/console/signout")
    assert await _still_signed_in(browser)
    assert await _sign_outs(sessionmaker, mark, me) == []

    mine = await person_tokens(relying_party, browser)
    elsewhere = await browser.get(
        "/oauth/logout",
        params={"id_token_hint": mine["id_token"],
                "post_logout_redirect_uri": "https://attacker.example/x"},
    )  # fmt: skip
    assert elsewhere.status_code == 303
    assert elsewhere.headers["location"] == "/console/signin"
    assert not await _still_signed_in(browser)
    assert await _sign_outs(sessionmaker, mark, me) == [
        ("person.signed_out", "console", me.person.id)
    ]
