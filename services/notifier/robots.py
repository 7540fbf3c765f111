"""Group robots of the government's work chat: WeCom (企业微信, on which 粤政易 is built) and
DingTalk. Their message formats, DingTalk's signed URL, and what their answers mean. Pure.

Followed: WeCom's 群机器人配置说明 (work.weixin.qq.com/api/doc/90000/90136/91770): POST JSON
`{"msgtype": "markdown", "markdown": {"content": ...}}` to the robot's webhook URL (its `key` in
the query), content UTF-8 and at most 4096 bytes, 20 messages a minute per robot; the answer
`{"errcode": 0, "errmsg": "ok"}`, non-zero per WeCom's global error codes. DingTalk's custom robot
(自定义机器人, open.dingtalk.com): POST JSON `{"msgtype": "actionCard", "actionCard": {"title",
"text", "singleTitle", "singleURL"}}` to `robot/send?access_token=…`, with 加签: `timestamp`
(milliseconds, within an hour of DingTalk's clock) and `sign` = base64(HMAC-SHA256(secret,
f"{timestamp}\\n{secret}")) as query parameters (URL-encoded once); 20 messages a minute, over
that throttled for 10 minutes; `errcode` in the answer likewise.

Text people typed goes through `plain`: the characters of the robots' markdown become their
full-width forms, so a purpose cannot turn into a link or a heading in the CDO's group.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from notifier.delivery import Answer, Outcome, Reading, read_status
from notifier.wording import DEADLINE, Message, one_line

WECOM_MARKDOWN_BYTES = 4096
DINGTALK_TEXT_BYTES = 4096  # no documented limit below the request's; kept as WeCom's
ERRMSG_CHARS = 200
# What could make links, emphasis, code or HTML of typed text, as its full-width form (U+FF01-
# FF5E mirror ASCII 0x21-0x7E); ids and underscores stay as they are.
_MARKUP = {ord(c): chr(ord(c) + 0xFEE0) for c in "[]*`<>\\"}


def plain(text: str) -> str:
    """Text that the robots' markdown shows as it is."""
    return text.translate(_MARKUP)


def wecom_payload(message: Message) -> dict[str, Any]:
    content = _fitting(message, _wecom_markdown, WECOM_MARKDOWN_BYTES)
    return {"msgtype": "markdown", "markdown": {"content": content}}


def _wecom_markdown(message: Message) -> str:
    lines = [f"### {plain(message.title)}", plain(message.lead)]
    for label, value in message.facts:
        shown = plain(value)
        if label == DEADLINE:  # one of the three colours WeCom's markdown has
            shown = f'<font color="warning">{shown}</font>'
        lines.append(f"> {label}：{shown}")
    lines.append(f"[{message.link_text}]({message.link})")
    return "\n".join(lines)


def dingtalk_payload(message: Message) -> dict[str, Any]:
    text = _fitting(message, _dingtalk_markdown, DINGTALK_TEXT_BYTES)
    return {
        "msgtype": "actionCard",
        "actionCard": {
            "title": plain(message.title),  # what the conversation list shows
            "text": text,
            "singleTitle": message.link_text,
            "singleURL": message.link,
        },
    }


def _dingtalk_markdown(message: Message) -> str:
    # DingTalk's markdown needs blank lines between blocks
    lines = [f"### {plain(message.title)}", plain(message.lead)]
    for label, value in message.facts:
        shown = plain(value)
        lines.append(f"- {label}：**{shown}**" if label == DEADLINE else f"- {label}：{shown}")
    return "\n\n".join(lines)


def _fitting(message: Message, render: Callable[[Message], str], limit: int) -> str:
    """The rendering, with the facts' values cut shorter until it fits in `limit` bytes."""
    text = render(message)
    for chars in (120, 60, 30, 12):
        if len(text.encode()) <= limit:
            break
        text = render(message.cut(chars))
    return text


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """`url` (with its access_token) plus `timestamp` and `sign`."""
    parts = urlsplit(url)
    query = [
        *((name, value) for name, value in parse_qsl(parts.query) if name not in _SIGNING),
        ("timestamp", str(timestamp_ms)),
        ("sign", dingtalk_sign(secret, timestamp_ms)),
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


_SIGNING = ("timestamp", "sign")


# errcode -> (outcome, what it means, the least wait before trying again)
Codes = dict[int, tuple[Outcome, str, float | None]]
RETRY, GONE, REFUSED = Outcome.retry, Outcome.gone, Outcome.failed_permanently
WECOM: Codes = {
    -1: (RETRY, "WeCom is busy (系统繁忙)", None),
    45009: (RETRY, "over the robot's limit of 20 messages a minute (接口调用超过限制)", 60.0),
    93000: (GONE, "the robot's URL is invalid: its key is wrong or it left its group", None),
    40008: (REFUSED, "WeCom refused the message type", None),
    44004: (REFUSED, "WeCom refused an empty message", None),
}
DINGTALK: Codes = {
    -1: (RETRY, "DingTalk is busy (系统繁忙)", None),
    410100: (RETRY, "over 20 messages a minute: the robot is throttled for 10 minutes", 600.0),
    310000: (
        RETRY,
        "the robot's security settings refused the message (signature, timestamp, keyword or "
        "IP allowlist)",
        None,
    ),
    300001: (GONE, "the robot's access token does not exist", None),
    400101: (GONE, "the robot's access token does not exist", None),
    400102: (GONE, "the robot has been disabled", None),
    400106: (GONE, "the robot does not exist", None),
    400013: (GONE, "the robot's group has been dissolved", None),
    400105: (REFUSED, "DingTalk refused the message type", None),
    430101: (REFUSED, "DingTalk refused a link in the message as unsafe", None),
    430102: (REFUSED, "DingTalk refused the message's text", None),
    430104: (REFUSED, "DingTalk refused the message's content", None),
}


def reader(codes: Codes) -> Callable[[Answer], Reading]:
    """How to read a robot's answers: a 2xx carries the outcome in its `errcode`; any other
    status is read as a webhook's would be."""

    def read(answer: Answer) -> Reading:
        if not 200 <= answer.status < 300:
            return read_status(answer)
        return read_errcode(codes, answer.body)

    return read


def read_errcode(codes: Codes, body: bytes) -> Reading:
    """What a robot's 2xx answer means. An answer without a numeric `errcode` is retried: it may
    come from a proxy in front of the robot rather than from it."""
    try:
        answer = json.loads(body.decode())
        errcode = answer["errcode"]
    except (UnicodeDecodeError, ValueError, TypeError, KeyError):
        return Reading(RETRY, "the answer is not the robot's JSON with an errcode")
    if not isinstance(errcode, int) or isinstance(errcode, bool):
        return Reading(RETRY, "the answer's errcode is not a number")
    if errcode == 0:
        return Reading(Outcome.delivered)
    errmsg = one_line(answer.get("errmsg", ""))[:ERRMSG_CHARS]
    outcome, meaning, wait_s = codes.get(errcode, (RETRY, "an error of the robot", None))
    return Reading(outcome, f"errcode {errcode}: {meaning} ({errmsg})", wait_s)
