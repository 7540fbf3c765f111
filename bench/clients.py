"""OAuth clients for the bench's callers, and their tokens from the real token endpoint."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from bench import workload
from bench.environment import Stack
from broker.kit.db import create_engine
from broker.oauth.clients import create_client

CALLER_SCOPES = (
    "requests:submit requests:read approvals:decide grants:read grants:use webhooks:manage"
)


@dataclass(frozen=True)
class Client:
    organisation_id: str
    client_id: str
    secret: str
    scope: str


async def create_clients(stack: Stack, scopes: dict[str, str]) -> dict[str, Client]:
    """One new client per organisation, with the scopes given for it."""
    engine = create_engine(stack.database_url)
    made: dict[str, Client] = {}
    try:
        async with stack.sessionmaker(engine)() as session:
            for org_id, scope in scopes.items():
                client, secret = await create_client(session, organisation_id=org_id, scope=scope)
                made[org_id] = Client(org_id, client.id, secret, client.scope)
            await session.commit()
    finally:
        await engine.dispose()
    return made


async def token(http: httpx.AsyncClient, client: Client, scope: str | None = None) -> str:
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": scope or client.scope},
        auth=(client.client_id, client.secret),
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


# Approved at filing (an unconditional dataset): one grant per filing, no CDO involved.
UNCONDITIONAL = "gd-rst-labour-dispatch-licences"
GRANT_SCOPE = f"dataset:{UNCONDITIONAL}:read"


async def file_for_grant(http: httpx.AsyncClient, client: Client) -> None:
    """Gives `client`'s organisation an active grant of `UNCONDITIONAL` by filing for it."""
    bearer = await token(http, client)
    body = workload.body("bench grant") | {
        "dataset_id": UNCONDITIONAL,
        "fields": ["licence_number"],
    }
    filed = await http.post(
        "/v1/requests", json=body, headers={"Authorization": f"Bearer {bearer}"}
    )
    filed.raise_for_status()
