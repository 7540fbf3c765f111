"""Real processes and ports on loopback for tests."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Mapping

import httpx

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
