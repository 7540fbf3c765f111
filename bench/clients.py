"""OAuth clients for the bench's callers, and their tokens from the real token endpoint."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import httpx

from bench.environment import Environment
from core.db import create_engine
from testing import workloads
from testing.clients import new_client, token_from

CALLER_SCOPES = (
    "requests:submit requests:read approvals:decide grants:read grants:use webhooks:manage"
)


@dataclass(frozen=True)
class Client:
    organisation_id: str
    client_id: str
    secret: str
    scope: str


async def create_clients(environment: Environment, scopes: dict[str, str]) -> dict[str, Client]:
    """One new client per organisation, with the scopes given for it."""
    engine = create_engine(environment.database_url)
    made: dict[str, Client] = {}
    try:
        sessions = environment.sessionmaker(engine)
        for org_id, scope in scopes.items():
            client_id, secret = await new_client(sessions, org_id, scope)
            made[org_id] = Client(org_id, client_id, secret, scope)
    finally:
        await engine.dispose()
    return made


# The provider, checking the tokens presented to its data API.
INTROSPECTOR = "gd-rst"


async def callers_and_introspector(
    environment: Environment, orgs: list[str]
) -> tuple[dict[str, Client], Client]:
    """A client with `CALLER_SCOPES` for each of `orgs`, and the introspecting provider's."""
    made = await create_clients(
        environment,
        dict.fromkeys(orgs, CALLER_SCOPES) | {INTROSPECTOR: "tokens:introspect requests:read"},
    )
    return made, made.pop(INTROSPECTOR)


def basic(client: Client) -> str:
    """The Authorization header of `client`'s Basic authentication."""
    return "Basic " + base64.b64encode(f"{client.client_id}:{client.secret}".encode()).decode()


async def token(http: httpx.AsyncClient, client: Client, scope: str | None = None) -> str:
    return await token_from(http, client.client_id, client.secret, scope or client.scope)


# Approved at filing (an unconditional dataset): one grant per filing, no CDO involved.
UNCONDITIONAL = "gd-rst-labour-dispatch-licences"
GRANT_SCOPE = f"dataset:{UNCONDITIONAL}:read"


async def file_for_grant(http: httpx.AsyncClient, client: Client) -> None:
    """Gives `client`'s organisation an active grant of `UNCONDITIONAL` by filing for it."""
    bearer = await token(http, client)
    body = workloads.body("bench grant") | {
        "dataset_id": UNCONDITIONAL,
        "fields": ["licence_number"],
    }
    filed = await http.post(
        "/v1/requests", json=body, headers={"Authorization": f"Bearer {bearer}"}
    )
    filed.raise_for_status()


async def file_template(http: httpx.AsyncClient, bearer: str) -> str:
    """Files one request with `bearer`; its id, for the floors to copy its rows."""
    first = await http.post(
        "/v1/requests",
        json=workloads.body("bench template"),
        headers={"Authorization": f"Bearer {bearer}"},
    )
    first.raise_for_status()
    return str(first.json()["id"])
