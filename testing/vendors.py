"""Local stand-ins for the vendors' group robots, as handlers of a loopback `Receiver`. Each
checks what its vendor documents for a custom robot's message (the sources are named in
`notifier/robots.py`) independently of the notifier's code, and answers as the vendor does:
HTTP 200 with `{"errcode": ..., "errmsg": ...}`. Tests queue errcodes to answer in turn."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from testing.receivers import Received, Reply

WECOM_TEXT_BYTES, WECOM_MARKDOWN_BYTES = 2048, 4096
DINGTALK_WINDOW_S = 3600  # "与请求调用时间误差不能超过1小时"


def answer(errcode: int, errmsg: str = "ok") -> Reply:
    body = json.dumps({"errcode": errcode, "errmsg": errmsg}).encode()
    return Reply(200, {"content-type": "application/json"}, body)


@dataclass
class Robot:
    """What both vendors' robots share: the queue of answers and what was accepted."""

    errcodes: list[int] = field(default_factory=list)  # answered in turn, then 0
    accepted: list[dict[str, Any]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)  # why a message failed the checks

    def refuse(self, errcode: int, why: str) -> Reply:
        self.refusals.append(why)
        return answer(errcode, why)

    def take(self, message: dict[str, Any]) -> Reply:
        if self.errcodes:
            return answer(self.errcodes.pop(0), "queued by the test")
        self.accepted.append(message)
        return answer(0)


def _json_body(received: Received) -> dict[str, Any] | None:
    if not received.headers.get("content-type", "").startswith("application/json"):
        return None
    try:
        body = json.loads(received.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return body if isinstance(body, dict) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


@dataclass
class WecomRobot(Robot):
    key: str = ""

    async def __call__(self, received: Received) -> Reply:
        target = urlsplit(received.target)
        query = dict(parse_qsl(target.query))
        if received.method != "POST" or target.path != "/cgi-bin/webhook/send":
            return self.refuse(404, f"{received.method} {target.path}")
        if query.get("key") != self.key:
            return self.refuse(93000, "invalid webhook url")
        message = _json_body(received)
        if message is None:
            return self.refuse(40058, "the body is not UTF-8 JSON")
        msgtype = message.get("msgtype")
        if msgtype not in ("text", "markdown"):
            return self.refuse(40008, f"invalid message type {msgtype!r}")
        content = _text((message.get(msgtype) or {}).get("content"))
        if content is None:
            return self.refuse(44004, "empty content")
        limit = WECOM_MARKDOWN_BYTES if msgtype == "markdown" else WECOM_TEXT_BYTES
        if len(content.encode()) > limit:
            return self.refuse(40058, f"content over {limit} bytes")
        return self.take(message)


@dataclass
class DingtalkRobot(Robot):
    access_token: str = ""
    secret: str = ""
    clock: Callable[[], float] = time.time

    def signature(self, timestamp: str) -> str:
        digest = hmac.new(
            self.secret.encode("utf-8"),
            f"{timestamp}\n{self.secret}".encode(),
            hashlib.sha256,
        ).digest()
        return base64.b64encode(digest).decode()

    async def __call__(self, received: Received) -> Reply:
        target = urlsplit(received.target)
        query = dict(parse_qsl(target.query))  # decodes the URL-encoded sign once
        if received.method != "POST" or target.path != "/robot/send":
            return self.refuse(404, f"{received.method} {target.path}")
        if query.get("access_token") != self.access_token:
            return self.refuse(300001, "token is not exist")
        timestamp = query.get("timestamp", "")
        if not timestamp.isdigit() or abs(self.clock() * 1000 - int(timestamp)) > (
            DINGTALK_WINDOW_S * 1000
        ):
            return self.refuse(310000, "invalid timestamp")
        if not hmac.compare_digest(query.get("sign", ""), self.signature(timestamp)):
            return self.refuse(310000, "sign not match")
        message = _json_body(received)
        if message is None:
            return self.refuse(400105, "the body is not UTF-8 JSON")
        required = {
            "text": ("content",),
            "markdown": ("title", "text"),
            "link": ("title", "text", "messageUrl"),
            "actionCard": ("title", "text"),
        }
        msgtype = message.get("msgtype")
        if msgtype not in required:
            return self.refuse(400105, f"unsupported msgtype {msgtype!r}")
        card = message.get(msgtype) or {}
        missing = [name for name in required[msgtype] if _text(card.get(name)) is None]
        if msgtype == "actionCard" and not (
            (_text(card.get("singleTitle")) and _text(card.get("singleURL"))) or card.get("btns")
        ):
            missing.append("singleTitle/singleURL or btns")
        if missing:
            return self.refuse(400105, f"missing {', '.join(missing)}")
        return self.take(message)
