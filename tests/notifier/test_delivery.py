from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from standardwebhooks import Webhook

from core.webhooks.signing import generate_secret
from core.webhooks.urls import Resolver, check_webhook_url
from notifier import connections
from notifier.delivery import (
    Attempt,
    EndpointTarget,
    Outcome,
    OutgoingEvent,
    deliver_once,
    webhook_client,
)
from testing.receivers import TLS_NAME, Receiver, Tls
from testing.waiting import wait_until

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
PAYLOAD = {
    "type": "approval.requested",
    "timestamp": "2025-03-01T08:00:00Z",
    "data": {"request_id": "req_1", "title": "不动产登记信息回流"},
}


def event(event_id: str = "msg_1") -> OutgoingEvent:
    return OutgoingEvent.from_payload(event_id, PAYLOAD, traceparent=TRACEPARENT)


def endpoint(url: str, *secrets: str) -> EndpointTarget:
    return EndpointTarget(id="ep_1", url=url, secrets=secrets or (generate_secret(),))


def resolving_to(*answers: Sequence[str]) -> Resolver:
    """A resolver giving each answer in turn (the last one from then on): DNS that changes."""
    calls = 0

    async def resolve(host: str, port: int) -> Sequence[str]:
        nonlocal calls
        calls += 1
        return answers[min(calls, len(answers)) - 1]

    return resolve


async def deliver(
    http: httpx.AsyncClient,
    target: EndpointTarget,
    *,
    allow_private: bool = True,
    resolver: Resolver | None = None,
    timeout_s: float = 2.0,
    outgoing: OutgoingEvent | None = None,
) -> Attempt:
    return await deliver_once(
        http,
        target,
        outgoing or event(),
        timeout_s=timeout_s,
        allow_private=allow_private,
        resolver=resolver,
    )


async def test_a_2xx_is_delivered_signed_json_with_the_trace(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    secret = generate_secret()
    attempt = await deliver(http, endpoint(receiver.url, secret))

    assert (attempt.outcome, attempt.status, attempt.error) == (Outcome.delivered, 200, None)
    assert attempt.latency_ms >= 0
    assert attempt.at.tzinfo is UTC
    (request,) = receiver.requests
    assert (request.method, request.target) == ("POST", "/hooks")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["traceparent"] == TRACEPARENT
    assert request.headers["webhook-id"] == "msg_1"
    assert Webhook(secret).verify(request.body, request.headers) == PAYLOAD


async def test_during_a_rotation_the_receiver_verifies_with_either_secret(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    old, new = generate_secret(), generate_secret()
    await deliver(http, endpoint(receiver.url, new, old))

    (request,) = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(request.body, request.headers) == PAYLOAD


async def test_every_retry_keeps_the_webhook_id(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.answer(500)
    secret = generate_secret()
    first = await deliver(http, endpoint(receiver.url, secret))
    second = await deliver(http, endpoint(receiver.url, secret))

    assert first.outcome == second.outcome == Outcome.retry
    assert (first.status, first.error) == (500, "HTTP 500 Internal Server Error")
    assert {r.headers["webhook-id"] for r in receiver.requests} == {"msg_1"}
    for request in receiver.requests:
        Webhook(secret).verify(request.body, request.headers)


async def test_429_retry_after_seconds_is_reported(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.answer(429, {"Retry-After": "120"})
    attempt = await deliver(http, endpoint(receiver.url))
    assert (attempt.outcome, attempt.status, attempt.retry_after_s) == (Outcome.retry, 429, 120)


async def test_503_retry_after_date_is_reported(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    when = datetime.now(UTC) + timedelta(minutes=10)
    receiver.answer(503, {"Retry-After": format_datetime(when, usegmt=True)})
    attempt = await deliver(http, endpoint(receiver.url))
    assert (attempt.outcome, attempt.status) == (Outcome.retry, 503)
    assert attempt.retry_after_s is not None
    assert 590 <= attempt.retry_after_s <= 600


async def test_410_means_gone(http: httpx.AsyncClient, receiver: Receiver) -> None:
    receiver.answer(410)
    attempt = await deliver(http, endpoint(receiver.url))
    assert (attempt.outcome, attempt.status) == (Outcome.gone, 410)


async def test_a_redirect_is_a_failure_and_not_followed(
    http: httpx.AsyncClient, receiver: Receiver, other_receiver: Receiver
) -> None:
    receiver.answer(301, {"Location": other_receiver.url})
    attempt = await deliver(http, endpoint(receiver.url))
    assert (attempt.outcome, attempt.status) == (Outcome.retry, 301)
    assert attempt.error is not None
    assert "not followed" in attempt.error
    assert other_receiver.connections == 0


async def test_a_receiver_that_hangs_times_out(http: httpx.AsyncClient, receiver: Receiver) -> None:
    release = receiver.hang()
    attempt = await deliver(http, endpoint(receiver.url), timeout_s=0.5)
    release.set()
    assert (attempt.outcome, attempt.status) == (Outcome.retry, None)
    assert attempt.error == "no answer within 0.5 s"
    assert 500 <= attempt.latency_ms < 2000


async def test_nobody_listening_is_retried(http: httpx.AsyncClient) -> None:
    with socket.socket() as unused:  # a port bound but not listening refuses connections
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
        attempt = await deliver(http, endpoint(f"http://127.0.0.1:{port}/hooks"))
    assert (attempt.outcome, attempt.status) == (Outcome.retry, None)
    assert attempt.error is not None
    assert attempt.error.startswith("ConnectError")


async def test_it_connects_to_the_checked_address_under_the_registered_name(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    url = f"http://receiver.test:{receiver.port}/hooks"
    attempt = await deliver(http, endpoint(url), resolver=resolving_to(["127.0.0.1"]))
    assert attempt.outcome == Outcome.delivered
    (request,) = receiver.requests
    assert request.headers["host"] == f"receiver.test:{receiver.port}"


async def test_tls_to_the_pinned_address_verifies_the_registered_name(
    tls: Tls, tls_receiver: Receiver
) -> None:
    loopback = resolving_to(["127.0.0.1"])
    tls_receiver.keep_alive = True  # the verified connection stays open...
    async with webhook_client(tls.client) as http:
        good = endpoint(f"https://{TLS_NAME}:{tls_receiver.port}/hooks")
        assert (await deliver(http, good, resolver=loopback)).outcome == Outcome.delivered
        (request,) = tls_receiver.requests
        assert request.headers["host"] == f"{TLS_NAME}:{tls_receiver.port}"

        # ...but the same address under another name gets a connection of its own, whose
        # certificate does not match, so nothing is sent.
        wrong = endpoint(f"https://impostor.test:{tls_receiver.port}/hooks")
        attempt = await deliver(http, wrong, resolver=loopback)
    assert (attempt.outcome, attempt.status) == (Outcome.retry, None)
    assert attempt.error is not None
    assert "certificate" in attempt.error.lower(), attempt.error
    assert len(tls_receiver.requests) == 1


async def test_dns_rebinding_to_loopback_is_refused_at_delivery(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    url = f"https://receiver.test:{receiver.port}/hooks"
    resolver = resolving_to(["93.184.215.14"], ["127.0.0.1"])
    await check_webhook_url(url, allow_private=False, resolver=resolver)  # passes when registered

    attempt = await deliver(http, endpoint(url), allow_private=False, resolver=resolver)

    assert (attempt.outcome, attempt.status) == (Outcome.failed_permanently, None)
    assert attempt.error == "refused: receiver.test resolves to 127.0.0.1, a loopback address"
    assert receiver.connections == 0


async def test_metadata_is_refused_even_when_private_urls_are_allowed(
    http: httpx.AsyncClient,
) -> None:
    attempt = await deliver(http, endpoint("http://169.254.169.254/latest/meta-data/"))
    assert attempt.outcome == Outcome.failed_permanently
    assert attempt.error == "refused: 169.254.169.254 is a cloud metadata address"


async def test_a_name_that_stopped_resolving_is_retried(http: httpx.AsyncClient) -> None:
    attempt = await deliver(http, endpoint("https://gone.test/hooks"), resolver=resolving_to([]))
    assert (attempt.outcome, attempt.status) == (Outcome.retry, None)
    assert attempt.error == "gone.test does not resolve to any address"


def test_the_body_is_compact_utf8_json() -> None:
    body = event().body
    assert json.loads(body) == PAYLOAD
    assert "不动产".encode() in body
    assert b": " not in body


async def test_a_connection_is_kept_for_the_next_webhook_to_the_same_name(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.keep_alive = True
    url = f"http://receiver.test:{receiver.port}/hooks"
    for n in range(3):
        attempt = await deliver(
            http, endpoint(url), resolver=resolving_to(["127.0.0.1"]), outgoing=event(f"msg_{n}")
        )
        assert attempt.outcome == Outcome.delivered
    assert (len(receiver.requests), receiver.connections) == (3, 1)


async def test_another_name_at_the_same_address_gets_a_connection_of_its_own(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.keep_alive = True
    loopback = resolving_to(["127.0.0.1"])
    for name in ("receiver.test", "other.test", "receiver.test", "other.test"):
        target = endpoint(f"http://{name}:{receiver.port}/hooks")
        assert (await deliver(http, target, resolver=loopback)).outcome == Outcome.delivered
    hosts = [request.headers["host"].split(":")[0] for request in receiver.requests]
    assert hosts == ["receiver.test", "other.test", "receiver.test", "other.test"]
    assert receiver.connections == 2


async def test_a_name_left_unused_has_its_connections_closed(
    http: httpx.AsyncClient, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connections, "IDLE_S", 0.2)
    monkeypatch.setattr(connections, "SWEEP_S", 0.1)
    receiver.keep_alive = True
    assert (await deliver(http, endpoint(receiver.url))).outcome == Outcome.delivered

    def closed() -> bool:
        return receiver.closed == 1

    await wait_until(closed, limit_s=10, what="the kept connection closed")
    assert receiver.connections == 1


async def test_an_answer_whose_body_stalls_is_still_its_status() -> None:
    """The body is read only to keep the connection: a 2xx whose body never comes is delivered."""
    release = asyncio.Event()

    async def stalls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nfirst")
        await writer.drain()
        await release.wait()
        writer.close()

    server = await asyncio.start_server(stalls, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with webhook_client() as http:
            attempt = await deliver(http, endpoint(f"http://127.0.0.1:{port}/"), timeout_s=0.5)
    finally:
        release.set()
        server.close()
        await server.wait_closed()
    assert (attempt.outcome, attempt.status, attempt.error) == (Outcome.delivered, 200, None)
