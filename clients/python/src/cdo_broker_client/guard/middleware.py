"""`GrantGuard`: ASGI middleware a provider puts in front of its data API.

    app = GrantGuard(
        api,
        broker_url="https://broker.example",
        client_id=..., client_secret=...,  # the provider's: grants:read, tokens:introspect
        datasets=[ServedDataset("gd-rst-labour-dispatch-licences", "/licences", "items")],
    )

Each request to a served path must carry a grant token for that path's dataset: verified offline
(signature against the broker's JWKS, issuer, audience, expiry, the `data_grant` detail) and
checked against what the broker's feed said of the grant (paused, revoked, expired: 403), with
no call to the broker. The app then sees the grant in `scope["state"]["grant"]`, and its JSON
answer is cut to the granted fields (and, for a data return, to records inside the granted
jurisdiction) before it leaves. Uses are counted and reported to the broker in batches.

Fails closed: a path no `ServedDataset` covers is refused (404) unless listed in `open_paths`;
a successful answer that is not JSON is withheld (502); while the guard has not heard from the
broker for `stale_after_s`, grant requests get 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, MutableMapping
from dataclasses import dataclass
from typing import Any

import httpx

from cdo_broker_client.client import BrokerClient
from cdo_broker_client.guard.checks import Granted, Refused, TokenChecker
from cdo_broker_client.guard.filtering import OutsideJurisdiction, filter_answer
from cdo_broker_client.guard.follower import FeedFollower
from cdo_broker_client.guard.keys import KeyCache
from cdo_broker_client.guard.states import GrantStates
from cdo_broker_client.guard.uses import UseReporter

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class ServedDataset:
    """A dataset the API serves under `path` (a prefix: `/licences` covers `/licences/123`)."""

    dataset_id: str
    path: str
    records_key: str | None = None  # e.g. "items" when answers are {"items": [...], ...}
    jurisdiction_field: str | None = None  # the records' GB/T 2260 division code, for returns


class GrantGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        broker_url: str,
        client_id: str,
        client_secret: str,
        datasets: Collection[ServedDataset],
        open_paths: Collection[str] = ("/healthz",),
        stale_after_s: float = 45.0,
        jwks_min_refresh_s: float = 30.0,
        report_uses_every_s: float = 10.0,
        max_body_bytes: int = 16 * 1024 * 1024,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.app = app
        self.client = BrokerClient(broker_url, client_id, client_secret, http=http)
        self.datasets = sorted(datasets, key=lambda d: len(d.path), reverse=True)
        self.open_paths = frozenset(open_paths)
        self.states = GrantStates()
        self.follower = FeedFollower(self.client, self.states, stale_after_s=stale_after_s)
        self.uses = UseReporter(self.client, every_s=report_uses_every_s)
        self._jwks_min_refresh_s = jwks_min_refresh_s
        self._max_body_bytes = max_body_bytes
        self.checker: TokenChecker | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # --- life ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Learn the issuer and keys, start following the feed and reporting uses. Requests
        arriving before the feed's first `ready` get 503."""
        metadata = await self.client.metadata()
        issuer = str(metadata["issuer"])
        keys = KeyCache(
            self.client.http, str(metadata["jwks_uri"]), min_refresh_s=self._jwks_min_refresh_s
        )
        await keys.refresh()
        self.checker = TokenChecker(
            keys, self.states, issuer=issuer, audience=issuer, state_known=self.follower.fresh
        )
        self._stop.clear()
        self._tasks = [
            asyncio.create_task(self.follower.run(self._stop), name="grant-guard-feed"),
            asyncio.create_task(self.uses.run(self._stop), name="grant-guard-uses"),
        ]

    async def aclose(self) -> None:
        """Stop following; send the uses counted since the last report."""
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.uses.flush()
        await self.client.aclose()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[GrantGuard]:
        """For servers that do not send ASGI lifespan events: start and stop around a block."""
        await self.start()
        try:
            yield self
        finally:
            await self.aclose()

    # --- ASGI ------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._lifespan(receive), send)
            return
        if scope["type"] != "http" or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        try:
            served, granted = await self._admit(scope)
        except Refused as refused:
            await _problem(send, refused, scope["path"])
            return
        self.uses.count(granted.grant_id)
        scope.setdefault("state", {})["grant"] = granted
        await self.app(scope, receive, self._filtering(send, served, granted, scope["path"]))

    def _lifespan(self, receive: Receive) -> Receive:
        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.start()
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
            return message

        return wrapped

    async def _admit(self, scope: Scope) -> tuple[ServedDataset, Granted]:
        path: str = scope["path"]
        served = next(
            (
                d
                for d in self.datasets
                if path == d.path or path.startswith(d.path.rstrip("/") + "/")
            ),
            None,
        )
        if served is None:
            raise Refused(404, "not-found", f"nothing is served at {path}")
        if self.checker is None:
            raise Refused(503, "guard-starting", "the guard has not started", {"Retry-After": "1"})
        token = _bearer(scope)
        granted = await self.checker.check(token, served.dataset_id)
        if granted.jurisdiction is not None and served.jurisdiction_field is None:
            raise Refused(
                403,
                "jurisdiction-unenforceable",
                "the grant is limited to a jurisdiction, and this API does not say which field "
                "of its records holds the division code",
            )
        return served, granted

    def _filtering(self, send: Send, served: ServedDataset, granted: Granted, path: str) -> Send:
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0

        async def filtered(message: Message) -> None:
            nonlocal start, size
            if message["type"] == "http.response.start":
                start = message
                if not 200 <= message["status"] < 300 or message["status"] in (204, 304):
                    await send(message)  # the API's own errors and empty answers pass as they are
                    start = None
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self._max_body_bytes:
                raise RuntimeError(f"answer over {self._max_body_bytes} bytes: not filtered")
            if message.get("more_body", False):
                return
            await self._send_filtered(send, start, b"".join(chunks), served, granted, path)

        return filtered

    async def _send_filtered(
        self,
        send: Send,
        start: Message,
        body: bytes,
        served: ServedDataset,
        granted: Granted,
        path: str,
    ) -> None:
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
        try:
            if b"json" not in content_type.lower():
                raise ValueError("not JSON")
            answer = filter_answer(
                json.loads(body),
                granted.fields,
                records_key=served.records_key,
                jurisdiction=granted.jurisdiction,
                jurisdiction_field=served.jurisdiction_field,
            )
        except OutsideJurisdiction as exc:
            await _problem(send, Refused(403, "outside-jurisdiction", str(exc)), path)
            return
        except ValueError:
            detail = "the API's answer is not JSON: the guard cannot cut it to the grant"
            await _problem(send, Refused(502, "unfilterable-answer", detail), path)
            return
        out = json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()
        headers.append((b"content-length", str(len(out)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": out, "more_body": False})


def _bearer(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name.lower() == b"authorization":
            kind, _, token = bytes(value).decode("latin-1").partition(" ")
            if kind.lower() == "bearer" and token.strip():
                return token.strip()
    raise Refused(
        401,
        "token-required",
        "send a grant token: Authorization: Bearer <token for dataset:<id>:read>",
        {"WWW-Authenticate": 'Bearer realm="data"'},
    )


async def _problem(send: Send, refused: Refused, path: str) -> None:
    body = json.dumps(refused.body(path), ensure_ascii=False).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in refused.headers.items()),
    ]
    await send({"type": "http.response.start", "status": refused.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
