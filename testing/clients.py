"""Calling the broker as its clients do: OAuth clients and their tokens from the real token
endpoint, Authorization headers, filing and deciding requests, parties holding the seed's demo
clients."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.oauth.clients import create_client
from broker.oauth.scopes import demo_scopes_for
from broker.seed.pilot import load_pilot
from testing.workloads import request_body

Sessions = async_sessionmaker[AsyncSession]
ClientAuth = tuple[str, str]  # an OAuth client's (id, secret), as new_client gives them
# `await token_for(org_id, scope)`: a real token for a new client of the organisation
TokenFactory = Callable[..., Awaitable[str]]
# `await as_org(org_id)`: Authorization headers of that organisation's system
Headers = Callable[[str], Awaitable[dict[str, str]]]
# `await credentials(org_id, scope)`: (client id, secret) of a new client
Credentials = Callable[[str, str], Awaitable[tuple[str, str]]]

ALL_SCOPES = "requests:submit requests:read approvals:decide grants:read grants:use"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def new_client(sessionmaker: Sessions, org_id: str, scope: str) -> ClientAuth:
    """A new OAuth client of `org_id`, committed: (client id, secret)."""
    async with sessionmaker() as session:
        client, secret = await create_client(session, organisation_id=org_id, scope=scope)
        await session.commit()
    return client.id, secret


async def token_from(
    http: httpx.AsyncClient, client_id: str, secret: str, scope: str | None = None
) -> str:
    """An access token from the token endpoint of the broker `http` talks to (client
    credentials; all the client's scopes unless `scope` names fewer)."""
    form = {"grant_type": "client_credentials"} | ({"scope": scope} if scope else {})
    answer = await http.post("/oauth/token", data=form, auth=(client_id, secret))
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


@dataclass(frozen=True)
class Caller:
    """A new client of an organisation with an access token: what the audit log should name."""

    client_id: str
    secret: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)

    @property
    def credentials(self) -> tuple[str, str]:
        return self.client_id, self.secret


async def new_caller(
    http: httpx.AsyncClient, sessionmaker: Sessions, org_id: str, scope: str
) -> Caller:
    """A new client of `org_id` (committed) and a token from the broker `http` talks to."""
    client_id, secret = await new_client(sessionmaker, org_id, scope)
    return Caller(client_id, secret, await token_from(http, client_id, secret))


def claims_of(token: str) -> dict[str, Any]:
    """A JWT's claims, read without verifying it (a token the test was just given)."""
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


async def bearer_from(
    http: httpx.AsyncClient, sessionmaker: Sessions, org_id: str, scope: str
) -> dict[str, str]:
    """Authorization headers with a token from the broker `http` talks to, for a new client of
    `org_id`."""
    client_id, secret = await new_client(sessionmaker, org_id, scope)
    return bearer(await token_from(http, client_id, secret))


async def file(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], **kw: Any
) -> httpx.Response:
    """`POST /v1/requests`."""
    return await client.post(
        "/v1/requests", headers=headers | kw.pop("extra_headers", {}), json=body
    )


# gd-rst's dataset whose policy approves at filing: a grant at once, without a CDO
GRANTED_AT_FILING = "gd-rst-labour-dispatch-licences"


async def granted_at_filing(http: httpx.AsyncClient, holder: tuple[str, str]) -> str:
    """The id of a grant to `holder`'s organisation, of GRANTED_AT_FILING."""
    token = await token_from(http, *holder, "requests:submit")
    body = request_body(GRANTED_AT_FILING, ["licence_number", "company_name"])
    filed = await file(http, bearer(token), body)
    assert filed.json()["status"] == "approved", filed.text
    return str(filed.json()["grant_id"])


async def decide(
    client: httpx.AsyncClient, headers: dict[str, str], request_id: str, **body: Any
) -> httpx.Response:
    """`POST /v1/requests/{id}/decision`. An approval says why by default, as a CDO granting
    personal fields must (minimisation); pass `comment=None` to send none."""
    if body.get("decision") == "approve":
        body.setdefault("comment", "依职责所需，同意。")
    body = {k: v for k, v in body.items() if v is not None}
    return await client.post(f"/v1/requests/{request_id}/decision", headers=headers, json=body)


def route_of(request: dict[str, Any]) -> list[list[str]]:
    """Who decides each step of a request as the API answers it (current approvers only)."""
    return [
        [a["organisation_id"] for a in step["approvers"] if a["current"]]
        for step in request["route"]
    ]


@dataclass
class Party:
    """One body's system: its client and an HTTP client carrying its access token."""

    org: str
    client_id: str
    secret: str
    scope: str
    http: httpx.AsyncClient


# `await party(org_id)` (or with `scope`): that body's system, closed after the test
PartyFactory = Callable[..., Awaitable[Party]]


async def demo_party(url: str, sessionmaker: Sessions, org: str, scope: str | None) -> Party:
    """`org`'s system at the broker at `url`, with the scopes `seed-pilot --clients` gives its
    kind of body (or `scope`)."""
    kind, has_cdo = _kind_of(org)
    scope = scope or demo_scopes_for(kind, has_cdo)
    client_id, secret = await new_client(sessionmaker, org, scope)
    http = httpx.AsyncClient(base_url=url, timeout=30)
    http.headers.update(bearer(await token_from(http, client_id, secret, scope)))
    return Party(org, client_id, secret, scope, http)


def _kind_of(org: str) -> tuple[str, bool]:
    seeded = _seeded().get(org)
    if seeded is None:
        return "department", True  # a body a test added
    return str(seeded["kind"]), bool(seeded.get("cdo"))


@cache
def _seeded() -> dict[str, dict[str, Any]]:
    return {o["id"]: o for o in load_pilot()["organisations"]}
