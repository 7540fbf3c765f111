"""Refuse request bodies that are not JSON before FastAPI guesses at them (415, not 422)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from broker.kit.problems import refusal

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
                await _unsupported(scope, content_type.decode("latin-1"))(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _unsupported(scope: Scope, content_type: str) -> ASGIApp:
    said = content_type or "(none)"
    return refusal(
        scope,
        415,
        "unsupported-media-type",
        (
            "Unsupported media type",
            f"Content-Type {said!r} is not accepted; send application/json.",
        ),
        ("不支持的内容类型", f"不接受 Content-Type {said!r}，请以 application/json 发送。"),
    )
