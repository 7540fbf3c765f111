"""Real HTTP receivers on 127.0.0.1, standing in for the CDOs' systems that webhooks reach.

A receiver is `asyncio.start_server` speaking just enough HTTP/1.1 (one request per connection,
or with `keep_alive` one after another; a Content-Length body) to record what arrived and answer
as the test says: no web framework, no thread, nothing listening after the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path

from testing.certificates import self_signed


@dataclass(frozen=True)
class Received:
    method: str
    target: str
    headers: dict[str, str]  # names lowercased
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


Handler = Callable[[Received], Awaitable[Reply]]


async def _ok(_: Received) -> Reply:
    return Reply(200)


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.handler: Handler = _ok
        self.arrived = asyncio.Condition()
        self.port = 0
        self.connections = 0  # TCP connections accepted, parsed as HTTP or not
        self.closed = 0  # of those, the ones that have ended
        self.keep_alive = False  # answer without `connection: close`, and read the next request

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def hang(self) -> asyncio.Event:
        """Hold every request without answering until the returned event is set."""
        release = asyncio.Event()

        async def held(_: Received) -> Reply:
            await release.wait()
            return Reply(200)

        self.handler = held
        return release

    def answer(self, status: int, headers: dict[str, str] | None = None) -> None:
        async def fixed(_: Received) -> Reply:
            return Reply(status, headers or {})

        self.handler = fixed

    async def wait_for(self, count: int, *, limit_s: float = 5.0) -> None:
        async with asyncio.timeout(limit_s), self.arrived:
            await self.arrived.wait_for(lambda: len(self.requests) >= count)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._one(reader, writer)
            while self.keep_alive:
                await self._one(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client gave up (a timeout test) or closed a kept connection
        finally:
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *lines = head.decode("latin-1").split("\r\n")
        method, target, _ = request_line.split(" ", 2)
        headers = {}
        for line in filter(None, lines):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        received = Received(method, target, headers, body)
        async with self.arrived:
            self.requests.append(received)
            self.arrived.notify_all()
        reply = await self.handler(received)
        extra = "".join(f"{k}: {v}\r\n" for k, v in reply.headers.items())
        status_line = f"HTTP/1.1 {reply.status} {HTTPStatus(reply.status).phrase}\r\n"
        closing = "" if self.keep_alive else "connection: close\r\n"
        writer.write(
            f"{status_line}content-length: {len(reply.body)}\r\n{closing}{extra}\r\n".encode()
            + reply.body
        )
        await writer.drain()


TLS_NAME = "receiver.test"


@dataclass(frozen=True)
class Tls:
    server: ssl.SSLContext  # presents a self-signed certificate for TLS_NAME
    client: ssl.SSLContext  # trusts exactly that certificate


def tls_contexts(folder: Path) -> Tls:
    """A self-signed certificate for TLS_NAME in `folder`, and the contexts of both ends."""
    cert, key = self_signed(folder, TLS_NAME)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=cert)
    return Tls(server, client)


@contextlib.asynccontextmanager
async def running_receiver(ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[Receiver]:
    receiver = Receiver()
    connections: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        connections.add(task)
        receiver.connections += 1
        try:
            await receiver.serve(reader, writer)
        finally:
            receiver.closed += 1
            connections.discard(task)

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ssl_context)
    receiver.port = server.sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        server.close()
        for task in list(connections):  # handlers a test left hanging
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)
        await server.wait_closed()
