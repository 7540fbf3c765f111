"""The broker as an OpenID Connect provider, driven by authlib's own client: PKCE S256 is
required, a wrong verifier and a second use of a code are refused, ID tokens verify with the
JWKS, userinfo names the person, refresh tokens rotate, and a person's token decides as that
person (named inside the decision's JWS) only while their appointment names them."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from fastapi import FastAPI
from joserfc import jws, jwt
from joserfc.jwk import KeySet

from broker.people.service import NewPerson
from testing.apps import BASE_URL
from testing.audit import audit_mark, audited_since
from testing.clients import ALL_SCOPES, Sessions, TokenFactory, bearer, decide, file
from testing.oidc import (
    REDIRECT,
    SCOPE,
    AsyncOAuth2Client,
    authorization_answer,
    person_tokens,
    relying_party_of,
)
from testing.people import new_person, sign_in
from testing.settings import Settings
from testing.workloads import request_body

pytestmark = pytest.mark.integration


async def _signed_in_cdo(
    sessionmaker: Sessions, settings: Settings, browser: httpx.AsyncClient, org: str
) -> NewPerson:
    person = await new_person(sessionmaker, settings, org, "cdo", appointed=True)
    assert (await sign_in(browser, person)).status_code == 303
    return person


async def test_code_flow_with_pkce_issues_verifiable_tokens_once(
    relying_party: AsyncOAuth2Client,
    browser: httpx.AsyncClient,
    sessionmaker: Sessions,
    settings: Settings,
) -> None:
    person = await _signed_in_cdo(sessionmaker, settings, browser, "gz-gov")
    verifier = generate_token(48)
    answer = await authorization_answer(relying_party, browser, verifier)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(REDIRECT)

    token = await relying_party.fetch_token(
        f"{BASE_URL}/oauth/token", authorization_response=location, code_verifier=verifier
    )
    assert set(token["scope"].split()) == set(SCOPE.split())
    jwks = KeySet.import_key_set((await browser.get("/.well-known/jwks.json")).json())
    id_token = jwt.decode(token["id_token"], jwks, algorithms=["RS256"])
    assert id_token.claims["sub"] == person.person.id
    assert id_token.claims["aud"] == [relying_party.client_id]
    assert id_token.claims["iss"] == BASE_URL
    assert id_token.claims["nonce"] == "n-0S6"
    assert (id_token.claims["org_id"], id_token.claims["roles"]) == ("gz-gov", ["cdo"])

    userinfo = await browser.get("/oauth/userinfo", headers=bearer(token["access_token"]))
    assert userinfo.json() == {
        "sub": person.person.id, "name": person.person.name, "org_id": "gz-gov", "roles": ["cdo"],
        "preferred_username": person.person.username,
    }  # fmt: skip
    assert id_token.claims["preferred_username"] == person.person.username

    # The same code again: refused
    code = parse_qs(urlsplit(location).query)["code"][0]
    again = await relying_party.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
              "code_verifier": verifier},
        auth=(relying_party.client_id, relying_party.client_secret),
    )  # fmt: skip
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"

    # The refresh token rotates: the new one works, the old one no longer does.
    refreshed = await relying_party.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(relying_party.client_id, relying_party.client_secret),
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["refresh_token"] != token["refresh_token"]
    stale = await relying_party.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(relying_party.client_id, relying_party.client_secret),
    )
    assert stale.status_code == 400
    assert stale.json()["error"] == "invalid_grant"


async def test_another_clients_code_or_refresh_token_is_refused_and_stays_usable(
    relying_party: AsyncOAuth2Client,
    browser: httpx.AsyncClient,
    app: FastAPI,
    sessionmaker: Sessions,
    settings: Settings,
) -> None:
    """A person's code and refresh token belong to the client they were issued to: another
    registered client presenting them is refused, the audit names that client (not the
    person), and the code and the refresh token still serve their own client afterwards."""
    person = await new_person(sessionmaker, settings, "gz-rsj", "staff")
    assert (await sign_in(browser, person)).status_code == 303
    verifier = generate_token(48)
    answer = await authorization_answer(relying_party, browser, verifier)
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    redeem = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
              "code_verifier": verifier}  # fmt: skip
    mark = await audit_mark(sessionmaker)
    own_auth = (relying_party.client_id, relying_party.client_secret)
    async with relying_party_of(app, sessionmaker) as other:

        async def refused_to_other(form: dict[str, str]) -> bool:
            answer = await other.post(
                "/oauth/token", data=form, auth=(other.client_id, other.client_secret)
            )
            return answer.status_code == 400 and answer.json()["error"] == "invalid_grant"

        assert await refused_to_other(redeem)
        own = await relying_party.post("/oauth/token", data=redeem, auth=own_auth)
        assert own.status_code == 200, own.text
        refresh = {"grant_type": "refresh_token", "refresh_token": own.json()["refresh_token"]}
        assert await refused_to_other(refresh)

    refreshed = await relying_party.post("/oauth/token", data=refresh, auth=own_auth)
    assert refreshed.status_code == 200, refreshed.text
    # the clients' organisation when refused; the person's, with the person, when issued
    written = [
        *await audited_since(sessionmaker, mark, actor="gd-dsb"),
        *await audited_since(sessionmaker, mark, actor="gz-rsj"),
    ]
    rows = [
        (row.action, row.actor, row.client_id, row.person_id)
        for row in sorted(written, key=lambda row: row.id)
        if row.client_id in (other.client_id, relying_party.client_id)
    ]
    assert rows == [
        ("token.refused", "gd-dsb", other.client_id, None),
        ("token.issued", "gz-rsj", relying_party.client_id, person.person.id),
        ("token.refused", "gd-dsb", other.client_id, None),
        ("token.issued", "gz-rsj", relying_party.client_id, person.person.id),
    ]


async def test_pkce_is_required_and_a_wrong_verifier_is_refused(
    relying_party: AsyncOAuth2Client,
    browser: httpx.AsyncClient,
    sessionmaker: Sessions,
    settings: Settings,
) -> None:
    await _signed_in_cdo(sessionmaker, settings, browser, "sz-gov")
    without = await authorization_answer(relying_party, browser, None)
    assert without.status_code == 302
    error = parse_qs(urlsplit(without.headers["location"]).query)
    assert error["error"] == ["invalid_request"]
    assert "PKCE" in error["error_description"][0]
    plain = await browser.get(
        "/oauth/authorize",
        params={"response_type": "code", "client_id": relying_party.client_id,
                "redirect_uri": REDIRECT, "scope": SCOPE, "code_challenge": "x" * 43,
                "code_challenge_method": "plain"},
    )  # fmt: skip
    assert parse_qs(urlsplit(plain.headers["location"]).query)["error"] == ["invalid_request"]

    verifier = generate_token(48)
    answer = await authorization_answer(relying_party, browser, verifier)
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    wrong = await relying_party.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
              "code_verifier": generate_token(48)},
        auth=(relying_party.client_id, relying_party.client_secret),
    )  # fmt: skip
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"


async def test_authorize_without_a_session_sends_the_person_to_sign_in(
    relying_party: AsyncOAuth2Client, browser: httpx.AsyncClient
) -> None:
    answer = await authorization_answer(relying_party, browser, generate_token(48))
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/signin?next=%2Foauth%2Fauthorize")


async def test_discovery_names_the_endpoints_and_s256(browser: httpx.AsyncClient) -> None:
    config = (await browser.get("/.well-known/openid-configuration")).json()
    assert config["issuer"] == BASE_URL
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert {"authorization_code", "refresh_token"} <= set(config["grant_types_supported"])
    assert config["userinfo_endpoint"] == f"{BASE_URL}/oauth/userinfo"


async def test_a_persons_decision_names_them_in_its_signature_and_others_are_refused(
    relying_party: AsyncOAuth2Client,
    browser: httpx.AsyncClient,
    client: httpx.AsyncClient,
    sessionmaker: Sessions,
    settings: Settings,
    token_for: TokenFactory,
) -> None:
    requester = bearer(await token_for("gz-gaj", ALL_SCOPES))
    filed = (await file(client, requester, request_body("gd-rst-social-insurance-enrolment",
                                                        ["id_number"]))).json()  # fmt: skip
    # a CDO-role person of the approver whom the appointment does not name: refused, no change
    stranger = await new_person(sessionmaker, settings, "gz-gov", "cdo")
    assert (await sign_in(browser, stranger)).status_code == 303
    token = await person_tokens(relying_party, browser)
    refused = await decide(client, bearer(token["access_token"]), filed["id"], decision="approve")
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"].endswith("/not-the-appointed-cdo")

    person = await _signed_in_cdo(sessionmaker, settings, browser, "gz-gov")
    token = await person_tokens(relying_party, browser)
    decided = await decide(client, bearer(token["access_token"]), filed["id"], decision="approve")
    assert decided.status_code == 200, decided.text
    decision = decided.json()["route"][0]["decisions"][0]
    assert decision["decided_by_person"] == {"id": person.person.id, "name": person.person.name}
    jwks = KeySet.import_key_set((await client.get("/.well-known/jwks.json")).json())
    content = json.loads(jws.deserialize_compact(decision["signature"], jwks).payload)
    assert content["decided_by_person"] == {"id": person.person.id, "name": person.person.name}
