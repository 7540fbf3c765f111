"""A webhook receiver for the benches: notes when each request's first webhook of a type arrives.

`POST /hook/<anything>` answers `--status` (200, or 500 to keep deliveries failing) and records
the arrival time (`time.time()`, comparable across processes on one machine) of the first
webhook per (type, request id). `GET /arrivals` answers them as JSON; `GET /count` how many
POSTs came, and when the first and the last came (`first_at`, `last_at`; null before any).
Served by uvicorn like the broker, so it costs little next to what it measures.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class Receiver:
    def __init__(self, status: int) -> None:
        self.status = status
        self.first: dict[str, float] = {}  # "type request_id" -> arrival
        self.posts = 0
        self.first_at: float | None = None
        self.last_at: float | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] == "POST":
            arrived = time.time()
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            self.posts += 1
            self.first_at = self.first_at or arrived
            self.last_at = arrived
            try:
                event = json.loads(body)
                key = f"{event['type']} {event['data'].get('request_id')}"
                self.first.setdefault(key, arrived)
            except (ValueError, KeyError, TypeError, AttributeError):
                pass
            await _answer(send, self.status, b"{}")
        elif scope["path"] == "/arrivals":
            await _answer(send, 200, json.dumps(self.first).encode())
        elif scope["path"] == "/count":
            await _answer(
                send,
                200,
                json.dumps(
                    {"posts": self.posts, "first_at": self.first_at, "last_at": self.last_at}
                ).encode(),
            )
        else:
            await _answer(send, 200, b"{}")


async def _answer(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--status", type=int, default=200)
    args = parser.parse_args()
    uvicorn.run(
        Receiver(args.status),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
