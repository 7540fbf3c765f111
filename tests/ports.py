"""Real processes and ports on loopback for tests."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Mapping

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.oauth.clients import create_client
from tests.waiting import wait_until


def free_port() -> int:
    """A loopback port nothing listens on right now (for a process to bind, or to find closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def serving_broker(env: Mapping[str, str], port: int) -> asyncio.subprocess.Process:
    """A real `cdo-broker serve` process on `port`, returned once it answers /healthz."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "broker", "serve", "--port", str(port),
        env=dict(env), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip

    async def up() -> bool:
        try:
            async with httpx.AsyncClient() as http:
                return (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
        except httpx.TransportError:
            return False

    await wait_until(up, limit_s=30, what=f"the broker process on port {port}")
    return process


async def bearer_from(
    http: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    org_id: str,
    scope: str,
) -> dict[str, str]:
    """Authorization headers with a token from the broker process `http` talks to, for a new
    client of `org_id`."""
    async with sessionmaker() as session:
        oauth_client, secret = await create_client(session, organisation_id=org_id, scope=scope)
        await session.commit()
    answer = await http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(oauth_client.id, secret)
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}
