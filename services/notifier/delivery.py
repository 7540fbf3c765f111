"""One attempt at delivering one webhook: sign, vet the address, POST, classify the answer.

DNS rebinding: a name that resolved to a public address when the endpoint was registered may
resolve to 127.0.0.1 by the time we deliver. So every attempt resolves the name again, checks every
address, and connects to the first checked address itself (the URL's host is replaced by that IP)
while the `Host` header and TLS SNI / certificate verification keep the registered name (httpx's
documented `sni_hostname` extension). No second lookup happens between the check and the connect.
Connections are kept alive per registered name (notifier.connections), so one verified for one
name never carries another name's webhook, and a kept one is reused only to an address checked
for this attempt. Under bench/e2e a new connection per webhook was a tenth of the notifier's
py-spy samples; over HTTPS it is also a handshake and its round trips.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import httpx

from core.webhooks.signing import headers_for
from core.webhooks.urls import (
    CheckedUrl,
    Resolver,
    UnresolvableWebhookHost,
    UnsafeWebhookUrl,
    check_webhook_url,
)
from notifier.connections import PoolPerName
from notifier.schedule import parse_retry_after

DEFAULT_TIMEOUT_S = 10.0
ANSWER_BYTES = 65536  # of an answer whose body is read (a robot's JSON is a few dozen)
USER_AGENT = "cdo-broker-notifier/0.1"


class Outcome(StrEnum):
    delivered = "delivered"  # a 2xx answer
    retry = "retry"  # anything else that may pass later: try again on the schedule
    gone = "gone"  # 410: the receiver asks us to stop; the endpoint is disabled
    failed_permanently = "failed_permanently"  # trying again cannot help (unsafe address)


@dataclass(frozen=True)
class EndpointTarget:
    id: str
    url: str
    secrets: tuple[str, ...]  # one, or two during a rotation; each signs every message


@dataclass(frozen=True)
class OutgoingEvent:
    id: str  # the `webhook-id`: the same on every attempt at this event
    body: bytes  # the exact bytes signed and sent
    traceparent: str | None = None

    @classmethod
    def from_payload(
        cls, id: str, payload: Mapping[str, Any], traceparent: str | None = None
    ) -> OutgoingEvent:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        return cls(id=id, body=body, traceparent=traceparent)


@dataclass(frozen=True)
class Attempt:
    at: datetime  # when the attempt started, UTC
    status: int | None  # None when no answer came
    latency_ms: int
    error: str | None
    outcome: Outcome
    retry_after_s: float | None = None  # the receiver's Retry-After on 429 / 503


def webhook_client(verify: ssl.SSLContext | bool = True) -> httpx.AsyncClient:
    """A client fit for deliver_once: connections kept per name, no redirects, and no proxy or
    .netrc picked up from the environment (a proxy would make the connection somewhere other
    than the checked address). `verify`: the certificates trusted (tests trust their own)."""
    return httpx.AsyncClient(transport=PoolPerName(verify), follow_redirects=False, trust_env=False)


def _request(
    client: httpx.AsyncClient,
    checked: CheckedUrl,
    content: bytes,
    headers: Mapping[str, str],
    timeout_s: float,
) -> httpx.Request:
    sent = {"user-agent": USER_AGENT, **headers}
    url = httpx.URL(checked.url)
    extensions: dict[str, Any] = {}
    if not checked.host_is_ip:
        default_port = 443 if checked.scheme == "https" else 80
        sent["host"] = (
            checked.host if checked.port == default_port else f"{checked.host}:{checked.port}"
        )
        extensions["sni_hostname"] = checked.host
        url = url.copy_with(host=checked.addresses[0])
    return client.build_request(
        "POST",
        url,
        content=content,
        headers=sent,
        timeout=httpx.Timeout(timeout_s),
        extensions=extensions,
    )


async def deliver_once(
    client: httpx.AsyncClient,
    endpoint: EndpointTarget,
    event: OutgoingEvent,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    allow_private: bool,
    resolver: Resolver | None = None,
) -> Attempt:
    """POST `event` to `endpoint` once, signed; never raises for what the receiver or network
    does."""
    headers = {
        "content-type": "application/json",
        **headers_for(endpoint.secrets, event.id, int(time.time()), event.body),
    }
    if event.traceparent:
        headers["traceparent"] = event.traceparent
    return await post_once(
        client, endpoint.url, event.body, headers, timeout_s=timeout_s,
        allow_private=allow_private, resolver=resolver,
    )  # fmt: skip


@dataclass(frozen=True)
class Answer:
    status: int
    headers: httpx.Headers
    body: bytes  # the first ANSWER_BYTES, read only for receivers whose body says the outcome
    at: datetime  # when the attempt started


@dataclass(frozen=True)
class Reading:
    """What an answer means for the delivery, and why (for the delivery log)."""

    outcome: Outcome
    error: str | None = None
    retry_after_s: float | None = None


async def post_once(
    client: httpx.AsyncClient,
    url: str,
    content: bytes,
    headers: Mapping[str, str],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    allow_private: bool,
    resolver: Resolver | None = None,
    read: Callable[[Answer], Reading] | None = None,
) -> Attempt:
    """POST `content` to `url` once, its address vetted at this moment; `read` says what a
    receiver's answer means (default: its status, as for webhooks; a `read` also gets the
    body). Never raises for anything the receiver or network does."""
    at = datetime.now(UTC)
    started = time.perf_counter()

    def attempt(
        outcome: Outcome,
        status: int | None = None,
        error: str | None = None,
        retry_after_s: float | None = None,
    ) -> Attempt:
        latency_ms = round((time.perf_counter() - started) * 1000)
        return Attempt(at, status, latency_ms, error, outcome, retry_after_s)

    body = b""
    response: httpx.Response | None = None
    try:
        # One deadline for the whole attempt: resolving, connecting, sending, the answer's
        # headers and body. httpx's own timeouts apply per phase, so a receiver trickling bytes
        # would otherwise hold the attempt open far longer.
        async with asyncio.timeout(timeout_s):
            checked = await check_webhook_url(url, allow_private=allow_private, resolver=resolver)
            request = _request(client, checked, content, headers, timeout_s)
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                # A webhook's answer is its status: its body (up to ANSWER_BYTES) is read only
                # so that the connection can carry the next one; a longer body closes it.
                body = await _first_bytes(response)
            finally:
                await response.aclose()
    except UnresolvableWebhookHost as exc:
        return attempt(Outcome.retry, error=exc.reason)
    except UnsafeWebhookUrl as exc:
        return attempt(Outcome.failed_permanently, error=f"refused: {exc.reason}")
    except (TimeoutError, httpx.HTTPError) as exc:  # httpx's timeouts are HTTPErrors
        if response is None or read is not None:
            return attempt(Outcome.retry, error=_failure(exc, timeout_s))
        # The status came; only the body, read for the connection's sake, did not.

    answer = Answer(response.status_code, response.headers, body, at)
    reading = (read or read_status)(answer)
    return attempt(reading.outcome, answer.status, reading.error, reading.retry_after_s)


def _failure(exc: Exception, timeout_s: float) -> str:
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return f"no answer within {timeout_s:g} s"
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


async def _first_bytes(response: httpx.Response) -> bytes:
    body = b""
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= ANSWER_BYTES:
            break
    return body[:ANSWER_BYTES]


def read_status(answer: Answer) -> Reading:
    """A webhook's answer: 2xx is delivery, 410 asks us to stop, anything else is retried
    (after the receiver's Retry-After on 429 and 503)."""
    status = answer.status
    if 200 <= status < 300:
        return Reading(Outcome.delivered)
    # The standard reason phrase, not the receiver's, which could be any text at all.
    error = f"HTTP {status} {httpx.codes.get_reason_phrase(status)}".rstrip()
    if status == 410:
        return Reading(Outcome.gone, error)
    retry_after = None
    if status in (429, 503):
        retry_after = parse_retry_after(answer.headers.get("retry-after"), answer.at)
    if 300 <= status < 400:
        error += " (redirects are not followed)"
    return Reading(Outcome.retry, error, retry_after)
