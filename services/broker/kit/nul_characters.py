"""Refuse text with the NUL character (U+0000) before it reaches PostgreSQL (422, not 500).

PostgreSQL's text types cannot hold NUL, so an id, a query filter or a body field carrying one
would fail in the database after the request had been accepted. JSON can carry it (`\\u0000`), as
can a URL or a form (`%00`); this looks in each and answers a validation problem naming the
field, as the app's own validation does (`invalid_request` on the OAuth endpoints). Only a body
that spells NUL at all is parsed here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broker.kit.problems import refusal

NUL = "\x00"
_BODY_METHODS = {"POST", "PUT", "PATCH"}
MESSAGE = "text may not contain the NUL character (U+0000)"
MESSAGE_ZH = "文本不能包含 NUL 字符（U+0000）"
OAUTH = "/oauth/"


class RefuseNulCharacters:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        found = _in_url(scope)
        if found is None and scope["method"] in _BODY_METHODS:
            body, receive = await _read(receive)
            found = _in_body(dict(scope["headers"]).get(b"content-type", b""), body)
        if found is None:
            await self.app(scope, receive, send)
            return
        field, where = found
        response = _refusal(scope, field, where)
        await response(scope, receive, send)


def _refusal(scope: Scope, field: str, where: str) -> Response:
    if scope["path"].startswith(OAUTH):  # OAuth-shaped, as every other error there (RFC 6749 5.2)
        return JSONResponse(
            {"error": "invalid_request", "error_description": f"{field}: {MESSAGE}"},
            status_code=400,
            headers={"Cache-Control": "no-store"},
        )
    return refusal(
        scope,
        422,
        "validation-error",
        ("Invalid request", f"{field}: {MESSAGE}"),
        ("请求参数有误", f"{field}: {MESSAGE_ZH}"),
        errors=[{"field": field, "in": where, "message": MESSAGE}],
    )


def _in_url(scope: Scope) -> tuple[str, str] | None:
    if NUL in scope["path"]:
        return "path", "path"
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if NUL in name + value:
                return name.replace(NUL, "") or "query", "query"
    return None


def _in_body(content_type: bytes, body: bytes) -> tuple[str, str] | None:
    media_type = content_type.split(b";")[0].strip().lower()
    if media_type == b"application/x-www-form-urlencoded" and b"%00" in body:
        for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            if NUL in name + value:
                return name.replace(NUL, "") or "body", "body"
    elif media_type.endswith(b"json") and b"\\u0000" in body:
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, or nested too deep to parse:
            return None  # the app's own parsing answers 400 for either
        paths = (".".join(path) or "body" for path in _nul_paths(document))
        field = next(paths, None)
        return (field, "body") if field is not None else None
    return None


def _nul_paths(document: Any) -> Iterator[tuple[str, ...]]:
    """The paths of every string or key holding NUL, depth first. A loop with a stack, not
    recursion: a body nested as deep as `json.loads` goes must not exhaust Python's stack."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(document, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                yield path
        elif isinstance(value, dict):
            items = list(value.items())
            for key, item in reversed(items):  # reversed: popped in the document's order
                stack.append((item, (*path, key)))
            for key, _ in items:
                if NUL in key:
                    yield (*path, key.replace(NUL, ""))
        elif isinstance(value, list):
            stack.extend((item, (*path, str(i))) for i, item in reversed(list(enumerate(value))))


async def _read(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body, and a `receive` that hands it on as one message."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: let the app see it
            partial: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": True}
            return partial["body"], _replay([partial, message], receive)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    whole: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
    return whole["body"], _replay([whole], receive)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
