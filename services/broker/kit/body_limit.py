"""Refuse request bodies over a size (413) before anything reads them.

A declared Content-Length over the limit is refused at once. Otherwise the body is read here,
counting bytes as they stream in (a chunked upload declares no length), and handed on whole only
if it stays within the limit: the broker's bodies are small JSON documents and forms, so buffering
at most `max_bytes` costs no more than the parsing that follows, and no endpoint ever sees an
oversized body or has to be trusted to stop reading one.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broker.kit.problems import refusal


class LimitBodySize:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                await self.app(scope, _replay([message], receive), send)
                return
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        whole: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([whole], receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        refused = refusal(
            scope,
            413,
            "payload-too-large",
            ("Payload too large", f"request bodies are limited to {self.max_bytes} bytes"),
            ("请求体过大", f"请求体不得超过 {self.max_bytes} 字节"),
            headers={"Connection": "close"},  # the rest of the upload is not read
        )
        await refused(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """`messages` first, then the real `receive` (which reports the client's disconnect)."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
