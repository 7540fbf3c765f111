"""Real HTTP receivers on 127.0.0.1 for the delivery tests.

A receiver is `asyncio.start_server` speaking just enough HTTP/1.1 (one request per connection,
a Content-Length body) to record what arrived and answer as the test says: no web framework, no
thread, nothing listening after the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from opentelemetry.sdk.trace import TracerProvider

from broker.settings import Settings
from notifier.cli import serve
from notifier.consumer import TOPICS
from notifier.delivery import webhook_client
from tests.certificates import self_signed
from tests.kafka import partition_count
from tests.ports import free_port
from tests.waiting import wait_until


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
            writer.write(
                f"{status_line}content-length: {len(reply.body)}\r\nconnection: close\r\n"
                f"{extra}\r\n".encode()
                + reply.body
            )
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client gave up (a timeout test); nothing to answer
        finally:
            writer.close()


TLS_NAME = "receiver.test"


@dataclass(frozen=True)
class Tls:
    server: ssl.SSLContext  # presents a self-signed certificate for TLS_NAME
    client: ssl.SSLContext  # trusts exactly that certificate


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    cert, key = self_signed(tmp_path_factory.mktemp("tls"), TLS_NAME)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=cert)
    return Tls(server, client)


@pytest.fixture
async def tls_receiver(tls: Tls) -> AsyncIterator[Receiver]:
    async with _running_receiver(tls.server) as running:
        yield running


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with _running_receiver() as running:
        yield running


@pytest.fixture
async def other_receiver() -> AsyncIterator[Receiver]:
    async with _running_receiver() as running:
        yield running


@contextlib.asynccontextmanager
async def _running_receiver(ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[Receiver]:
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


@pytest.fixture
async def notifier_port(settings: Settings) -> AsyncIterator[int]:
    """A notifier in this process, in a new consumer group that starts at the topics' end, with
    loopback webhooks and quick retries; its `/healthz`, `/readyz`, `/metrics` on the port."""
    assert settings.kafka_bootstrap_servers
    group = f"test-{secrets.token_hex(4)}"
    await group_at_the_end(settings.kafka_bootstrap_servers, group)
    port = free_port()
    local = settings.model_copy(
        update={
            "webhook_allow_private_urls": True,
            "webhook_retry_schedule": "0.2,0.2,0.2",
            "notifier_group_id": group,
        }
    )
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(local, stop, ready=ready, http=("127.0.0.1", port)))
    await wait_until(ready.is_set, limit_s=30, what="the notifier to join its group")
    yield port
    stop.set()
    await asyncio.wait_for(task, 20)


async def group_at_the_end(bootstrap: str, group_id: str) -> None:
    """The topics hold earlier runs' events: the new group starts after them."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(t, n) for t in TOPICS for n in range(partition_count(t))]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.commit(dict(ends.items()))
    finally:
        await consumer.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with webhook_client() as client:
        yield client


@contextlib.asynccontextmanager
async def running_notifier(
    settings: Settings, tracer_provider: TracerProvider | None = None
) -> AsyncIterator[None]:
    """The real notifier in this process, as the local demo runs it (loopback webhook URLs
    allowed), in a consumer group of its own that starts at the topics' end (they hold earlier
    runs' events); returns once it has joined its group."""
    local = settings.model_copy(
        update={
            "webhook_allow_private_urls": True,
            "notifier_group_id": f"test-{secrets.token_hex(4)}",
            "notifier_start_at": "latest",
        }
    )
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(local, stop, ready=ready, tracer_provider=tracer_provider))
    await wait_until(ready.is_set, limit_s=30, what="the notifier to join its group")
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
