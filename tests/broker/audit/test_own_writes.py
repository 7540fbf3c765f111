"""The writes no other test names the audit row of, each over HTTP: what a caller does to its own
things (its webhook endpoint, the uses its guard counted, its own token) and what a person's
sign-in does through the OpenID Connect provider (a code issued, the session ended). Each row
names the organisation, the client and the person; a call that changes nothing writes none."""

from __future__ import annotations

import json
import secrets

import httpx
import pytest
from fastapi import FastAPI

from testing.apps import BASE_URL
from testing.audit import audit_mark, audited_since
from testing.clients import ALL_SCOPES, Headers, Sessions, claims_of, file, new_caller
from testing.oidc import person_tokens, relying_party_of
from testing.organisations import new_organisation
from testing.people import new_person, sign_in
from testing.settings import Settings
from testing.workloads import request_body

pytestmark = pytest.mark.integration
PUBLIC_URL = "https://93.184.215.14/hooks/cdo"  # a public address literal: no DNS in the test


async def test_webhook_endpoint_changes_and_rotations_name_the_caller(
    client: httpx.AsyncClient, sessionmaker: Sessions
) -> None:
    org = await new_organisation(sessionmaker)
    caller = await new_caller(client, sessionmaker, org, "webhooks:manage")
    client_id, headers = caller.client_id, caller.headers
    path = "/v1/webhooks/endpoint"
    assert (await client.put(path, headers=headers, json={"url": PUBLIC_URL})).status_code == 201
    mark = await audit_mark(sessionmaker)

    changed = await client.put(path, headers=headers, json={"url": f"{PUBLIC_URL}/v2"})
    rotated = await client.post(f"{path}/rotate-secret", headers=headers, json={})

    assert (changed.status_code, rotated.status_code) == (200, 200), rotated.text
    rows = await audited_since(sessionmaker, mark, actor=org)
    endpoint = changed.json()["id"]
    assert [(r.action, r.subject) for r in rows] == [
        ("webhook.endpoint_changed", endpoint),
        ("webhook.secret_rotated", endpoint),
    ]
    assert {(r.client_id, r.person_id) for r in rows} == {(client_id, None)}
    assert rows[0].detail == {"url": f"{PUBLIC_URL}/v2"}
    assert rotated.json()["secret"] not in json.dumps([r.detail for r in rows])


async def test_uses_a_provider_reports_are_audited_and_none_counted_writes_none(
    client: httpx.AsyncClient, sessionmaker: Sessions, as_org: Headers
) -> None:
    # gd-rst's dataset of licences is granted at once (the default policy)
    filed = await file(
        client,
        await as_org("gz-gaj"),
        request_body("gd-rst-labour-dispatch-licences", ["licence_number"]),
    )
    grant_id = filed.json()["grant_id"]
    assert grant_id, filed.text
    provider = await new_caller(client, sessionmaker, "gd-rst", "tokens:introspect")
    client_id, headers = provider.client_id, provider.headers
    used = "2026-01-01T00:00:00+00:00"
    mark = await audit_mark(sessionmaker)

    counted = await client.post(
        "/v1/grants/uses",
        headers=headers,
        json={"uses": [{"grant_id": grant_id, "count": 3, "last_used_at": used}]},
    )
    not_ours = await client.post(
        "/v1/grants/uses",
        headers=headers,
        json={"uses": [{"grant_id": "grt_nothing", "count": 1, "last_used_at": used}]},
    )

    assert counted.json() == {"counted": [grant_id], "ignored": []}, counted.text
    assert not_ours.json() == {"counted": [], "ignored": ["grt_nothing"]}, not_ours.text
    rows = await audited_since(sessionmaker, mark, actor="gd-rst")
    assert [(r.action, r.subject, r.client_id, r.person_id) for r in rows] == [
        ("grant.uses_reported", "gd-rst", client_id, None)
    ]
    assert rows[0].detail == {"uses": {grant_id: 3}}


async def test_a_client_revoking_its_own_token_is_audited_and_anothers_token_is_not(
    client: httpx.AsyncClient, sessionmaker: Sessions
) -> None:
    holder = await new_caller(client, sessionmaker, "gz-rsj", ALL_SCOPES)
    token = holder.token
    stranger = (await new_caller(client, sessionmaker, "gz-gaj", ALL_SCOPES)).credentials
    mark = await audit_mark(sessionmaker)

    by_stranger = await client.post("/oauth/revoke", data={"token": token}, auth=stranger)
    assert by_stranger.status_code == 200
    assert await audited_since(sessionmaker, mark, actor="gz-gaj") == []
    revoked = await client.post("/oauth/revoke", data={"token": token}, auth=holder.credentials)

    assert revoked.status_code == 200, revoked.text
    rows = await audited_since(sessionmaker, mark, actor="gz-rsj")
    assert [(r.action, r.subject, r.client_id, r.person_id) for r in rows] == [
        ("token.revoked", claims_of(token)["jti"], holder.client_id, None)
    ]


async def test_a_persons_code_token_and_sign_out_name_the_person(
    app: FastAPI, sessionmaker: Sessions, settings: Settings
) -> None:
    person = await new_person(sessionmaker, settings, "gz-rsj", "staff")
    person_id = person.person.id
    transport = httpx.ASGITransport(app=app)
    async with (
        relying_party_of(app, sessionmaker) as relying_party,
        httpx.AsyncClient(transport=transport, base_url=BASE_URL) as browser,
    ):
        assert (await sign_in(browser, person)).status_code == 303
        mark = await audit_mark(sessionmaker)
        tokens = await person_tokens(relying_party, browser)
        bare = await browser.get("/oauth/logout", params={"state": secrets.token_hex(4)})
        assert bare.headers["location"].startswith("/console/signout")  # asked, not ended
        out = await browser.get("/oauth/logout", params={"id_token_hint": tokens["id_token"]})
        relying = relying_party.client_id

    assert out.status_code == 303, out.text
    rows = await audited_since(sessionmaker, mark, actor="gz-rsj")
    assert [(r.action, r.subject, r.client_id, r.person_id) for r in rows] == [
        ("oauth.code_issued", relying, relying, person_id),
        ("token.issued", relying, relying, person_id),
        ("person.signed_out", person_id, "console", person_id),
    ]
    assert "code" not in rows[0].detail
    assert set(rows[0].detail) == {"scope", "redirect_uri"}
