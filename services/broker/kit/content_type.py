"""Refuse request bodies that are not JSON before FastAPI guesses at them (415, not 422)."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from broker.kit.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE

_BODY_METHODS = {b"POST", b"PUT", b"PATCH"}
_JSON_PREFIXES = (b"application/json", b"application/merge-patch+json")


class RequireJSONBody:
    """Applies to the JSON API under `prefix`; the OAuth endpoints take form bodies."""

    def __init__(self, app: ASGIApp, prefix: str = "/v1/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"].encode() in _BODY_METHODS
            and scope["path"].startswith(self.prefix)
        ):
            headers = dict(scope["headers"])
            content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            has_body = (
                headers.get(b"content-length", b"0") != b"0" or b"transfer-encoding" in headers
            )
            if has_body and not content_type.startswith(_JSON_PREFIXES):
                await _send_415(send, scope["path"], content_type.decode("latin-1"))
                return
        await self.app(scope, receive, send)


async def _send_415(send: Send, path: str, content_type: str) -> None:
    body = json.dumps(
        {
            "type": PROBLEM_BASE + "unsupported-media-type",
            "title": "Unsupported media type",
            "status": 415,
            "detail": f"Content-Type {content_type or '(none)'!r} is not accepted; "
            "send application/json.",
            "instance": path,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 415,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
