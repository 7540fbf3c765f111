"""The robots' payloads and signature against the vendors' documented format, as the stand-ins
in tests/notifier/vendors.py check it, and what their errcodes make of a delivery."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from notifier.delivery import Answer, Outcome
from notifier.robots import (
    DINGTALK,
    WECOM,
    dingtalk_payload,
    dingtalk_signed_url,
    reader,
    wecom_payload,
)
from notifier.texts import compose
from testing.events import approval_task
from testing.receivers import Received
from testing.vendors import DingtalkRobot, WecomRobot

SECRET = "SECb1e2f3a4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7"


def message(**changes: Any) -> Any:
    data = approval_task("gd-rst", "req_1") | changes
    return compose("approval.requested", data, recipient="gd-rst", names={},
                   console_base="https://cdo.gd.gov.cn/console")  # fmt: skip


def posted(url: str, payload: dict[str, Any]) -> Received:
    parts = urlsplit(url)
    return Received(
        "POST",
        f"{parts.path}?{parts.query}",
        {"content-type": "application/json"},
        json.dumps(payload, ensure_ascii=False).encode(),
    )


async def test_wecom_markdown_passes_the_robots_checks() -> None:
    robot = WecomRobot(key="k-1")
    reply = await robot(posted("https://x/cgi-bin/webhook/send?key=k-1", wecom_payload(message())))
    assert json.loads(reply.body) == {"errcode": 0, "errmsg": "ok"}, robot.refusals
    content = robot.accepted[0]["markdown"]["content"]
    assert content.startswith("### 【待审批】广州市公安局的数据共享申请")
    assert '> 办理时限：<font color="warning">' in content
    assert content.endswith(
        "[前往首席数据官工作台审批](https://cdo.gd.gov.cn/console/requests/req_1)"
    )


async def test_a_long_message_is_cut_to_wecoms_4096_bytes() -> None:
    long = message(
        purpose="用" * 3000, fields=[f"数据项{i}" for i in range(400)], legal_basis="法" * 900
    )
    payload = wecom_payload(long)
    assert len(payload["markdown"]["content"].encode()) <= 4096
    robot = WecomRobot(key="k")
    await robot(posted("https://x/cgi-bin/webhook/send?key=k", payload))
    assert robot.accepted, robot.refusals


def test_typed_markup_cannot_make_a_link_or_heading() -> None:
    sneaky = message(purpose="[点此审批](https://evil.example) ## 标题 **粗体** <font>")
    content = wecom_payload(sneaky)["markdown"]["content"]
    assert "](https://evil.example)" not in content
    assert "\uff3b点此审批\uff3d(https://evil.example)" in content  # full-width brackets
    assert "\uff0a\uff0a粗体\uff0a\uff0a" in content
    text = dingtalk_payload(sneaky)["actionCard"]["text"]
    assert "[点此审批]" not in text
    assert "<font>" not in text


async def test_dingtalk_signed_action_card_passes_the_robots_checks() -> None:
    robot = DingtalkRobot(access_token="t-1", secret=SECRET)
    url = dingtalk_signed_url(
        "https://x/robot/send?access_token=t-1", SECRET, int(time.time() * 1000)
    )
    payload = dingtalk_payload(message())
    reply = await robot(posted(url, payload))
    assert json.loads(reply.body)["errcode"] == 0, robot.refusals
    card = robot.accepted[0]["actionCard"]
    assert card["singleURL"] == "https://cdo.gd.gov.cn/console/requests/req_1"
    assert card["singleTitle"] == "前往首席数据官工作台审批"
    assert "- 办理时限：**" in card["text"]


async def test_dingtalk_refuses_a_stale_timestamp_or_a_wrong_sign() -> None:
    robot = DingtalkRobot(access_token="t", secret=SECRET)
    payload = dingtalk_payload(message())
    two_hours_ago = int((time.time() - 7200) * 1000)
    stale = await robot(
        posted(
            dingtalk_signed_url("https://x/robot/send?access_token=t", SECRET, two_hours_ago),
            payload,
        )
    )
    assert json.loads(stale.body)["errcode"] == 310000
    now = int(time.time() * 1000)
    forged = await robot(
        posted(
            dingtalk_signed_url("https://x/robot/send?access_token=t", SECRET + "x", now), payload
        )
    )
    assert json.loads(forged.body) == {"errcode": 310000, "errmsg": "sign not match"}
    assert robot.accepted == []


def _read(codes: Any, status: int, body: dict[str, Any] | str) -> Any:
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return reader(codes)(Answer(status, httpx.Headers(), raw, at=None))  # type: ignore[arg-type]


def test_errcodes_are_retried_or_not_per_their_meaning() -> None:
    assert _read(WECOM, 200, {"errcode": 0, "errmsg": "ok"}).outcome is Outcome.delivered
    busy = _read(WECOM, 200, {"errcode": -1, "errmsg": "system busy"})
    assert busy.outcome is Outcome.retry
    limited = _read(WECOM, 200, {"errcode": 45009, "errmsg": "api freq out of limit"})
    assert (limited.outcome, limited.retry_after_s) == (Outcome.retry, 60.0)
    gone = _read(WECOM, 200, {"errcode": 93000, "errmsg": "invalid webhook url"})
    assert gone.outcome is Outcome.gone
    assert gone.error.startswith("errcode 93000: ")
    throttled = _read(DINGTALK, 200, {"errcode": 410100, "errmsg": "send too fast"})
    assert (throttled.outcome, throttled.retry_after_s) == (Outcome.retry, 600.0)
    assert (
        _read(DINGTALK, 200, {"errcode": 310000, "errmsg": "sign not match"}).outcome
        is Outcome.retry
    )
    assert (
        _read(DINGTALK, 200, {"errcode": 400102, "errmsg": "robot stopped"}).outcome is Outcome.gone
    )
    assert (
        _read(DINGTALK, 200, {"errcode": 430102, "errmsg": "bad text"}).outcome
        is Outcome.failed_permanently
    )
    assert _read(DINGTALK, 200, {"errcode": 123, "errmsg": "?"}).outcome is Outcome.retry
    assert _read(DINGTALK, 200, "<html>proxy</html>").outcome is Outcome.retry
    assert _read(DINGTALK, 200, {"errcode": True}).outcome is Outcome.retry
    assert _read(WECOM, 502, "").outcome is Outcome.retry
