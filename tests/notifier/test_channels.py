"""Notification channels on the real stack: the broker, Kafka, PostgreSQL and the notifier, with
a WeCom and a DingTalk group robot stand-in (tests/notifier/vendors.py) and an SMTP server that
requires STARTTLS (tests/notifier/mailbox.py) on loopback.

A request filed for real reaches the approver's WeCom group as an approval task in Chinese with
the deadline and the console link; a DingTalk robot that answers an error is tried again; the
mail arrives over TLS. A robot the vendor says is gone disables its channel until it is
registered again, and its message can then be replayed."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import topics
from notifier.cli import serve
from notifier.wording import when
from testing.apps import BASE_URL, broker_with
from testing.clients import ALL_SCOPES, TokenFactory, bearer
from testing.events import approval_headers, approval_task, encoded
from testing.kafka import produce
from testing.mailbox import PASSWORD, USER, Mailbox, running_mailbox
from testing.organisations import manager, new_organisation
from testing.receivers import Receiver, running_receiver
from testing.settings import Settings
from testing.vendors import DingtalkRobot, WecomRobot
from testing.waiting import wait_until
from testing.workloads import request_body

pytestmark = pytest.mark.integration

APPROVER = "gz-gov"  # the first step of gz-gaj's cross-level request for a provincial dataset
SECRET = "SEC" + secrets.token_hex(30)
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture(scope="module")
def mailbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mailbox]:
    with running_mailbox(tmp_path_factory.mktemp("smtp")) as running:
        yield running


def _local(settings: Settings, mailbox: Mailbox) -> Settings:
    return settings.model_copy(
        update={
            "webhook_allow_private_urls": True,
            "webhook_retry_schedule": "0.3,0.3,0.3",
            "notifier_group_id": f"test-{secrets.token_hex(4)}",
            "notifier_start_at": "latest",  # the topics hold earlier runs' events
            "smtp_host": mailbox.host,
            "smtp_port": mailbox.port,
            "smtp_username": USER,
            "smtp_password": SecretStr(PASSWORD),
            "smtp_from": "cdo-broker@gd.gov.cn",
            "smtp_ca_file": mailbox.ca_file,
        }
    )


@pytest.fixture(scope="module")
async def broker(
    settings: Settings, app: FastAPI, mailbox: Mailbox
) -> AsyncIterator[httpx.AsyncClient]:
    """The broker as the local demo runs it (loopback robots allowed), with SMTP set up."""
    async with broker_with(
        app, settings, webhook_allow_private_urls=True, smtp_host="localhost"
    ) as http:
        yield http


@pytest.fixture(scope="module")
async def notifier(settings: Settings, mailbox: Mailbox) -> AsyncIterator[Settings]:
    local = _local(settings, mailbox)
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(local, stop, ready=ready))
    await wait_until(ready.is_set, limit_s=30, what="the notifier to join its group")
    yield local
    stop.set()
    await asyncio.wait_for(task, 20)


def robot_url(receiver: Receiver, path: str, **query: str) -> str:
    return f"http://127.0.0.1:{receiver.port}{path}?" + "&".join(
        f"{k}={v}" for k, v in query.items()
    )


async def put_channel(
    broker: httpx.AsyncClient, headers: dict[str, str], kind: str, body: dict[str, Any]
) -> dict[str, Any]:
    answer = await broker.put(f"/v1/notifications/channels/{kind}", headers=headers, json=body)
    assert answer.status_code in (200, 201), answer.text
    result: dict[str, Any] = answer.json()
    return result


async def deliveries(
    broker: httpx.AsyncClient, headers: dict[str, str], **query: str
) -> list[dict[str, Any]]:
    answer = await broker.get("/v1/webhooks/deliveries", headers=headers, params=query)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def test_a_filed_request_reaches_the_approvers_work_chat_and_mailbox(
    broker: httpx.AsyncClient, notifier: Settings, mailbox: Mailbox, token_for: TokenFactory
) -> None:
    approver = bearer(await token_for(APPROVER, "webhooks:manage"))
    wecom = WecomRobot(key=uuid.uuid4().hex)
    dingtalk = DingtalkRobot(access_token=uuid.uuid4().hex, secret=SECRET, errcodes=[-1])
    async with running_receiver() as wecom_server, running_receiver() as dingtalk_server:
        wecom_server.handler, dingtalk_server.handler = wecom, dingtalk
        await put_channel(broker, approver, "wecom", {
            "webhook_url": robot_url(wecom_server, "/cgi-bin/webhook/send", key=wecom.key),
        })  # fmt: skip
        await put_channel(broker, approver, "dingtalk", {
            "webhook_url": robot_url(
                dingtalk_server, "/robot/send", access_token=dingtalk.access_token
            ),
            "secret": SECRET,
        })  # fmt: skip
        await put_channel(broker, approver, "email", {"recipients": ["cdo-office@gz.gov.cn"]})
        try:
            filed = await broker.post(
                "/v1/requests",
                headers=bearer(await token_for("gz-gaj", ALL_SCOPES)),
                json=request_body("gd-rst-social-insurance-enrolment", ["id_number"]),
            )
            assert filed.status_code == 201, filed.text
            request = filed.json()
            request_id = request["id"]
            step = request["route"][0]
            assert [a["organisation_id"] for a in step["approvers"]] == [APPROVER]
            console = f"{BASE_URL}/console/requests/{request_id}"

            def ours(items: list[dict[str, Any]], text_of: Any) -> list[dict[str, Any]]:
                return [m for m in items if request_id in text_of(m)]

            def markdown(m: dict[str, Any]) -> str:
                return str(m["markdown"]["content"])

            def card(m: dict[str, Any]) -> str:
                return json.dumps(m, ensure_ascii=False)

            await wait_until(
                lambda: ours(wecom.accepted, markdown) and ours(dingtalk.accepted, card)
                and [d for d in mailbox.received() if d.mentions(request_id)],
                limit_s=60,
                what="the WeCom group, the DingTalk group and the mailbox to hear of the request",
            )  # fmt: skip
        finally:
            for kind in ("wecom", "dingtalk", "email"):
                await broker.delete(f"/v1/notifications/channels/{kind}", headers=approver)

    # WeCom: the approval task in Chinese, the deadline in China Standard Time, the console link
    (task,) = ours(wecom.accepted, markdown)
    content = markdown(task)
    assert task["msgtype"] == "markdown"
    assert content.startswith("### 【待审批】广州市公安局的数据共享申请")
    assert f"> 申请编号：{request_id}" in content
    assert "> 审批环节：第1环节" in content
    assert f'> 办理时限：<font color="warning">{when(step["due_at"])}</font>' in content
    assert "（北京时间）" in when(step["due_at"])
    assert content.endswith(f"[前往首席数据官工作台审批]({console})")
    assert wecom.refusals == []

    # DingTalk: the first answer was an error (errcode -1), the second try passed the checks
    (accepted,) = ours(dingtalk.accepted, card)
    assert accepted["actionCard"]["singleURL"] == console
    assert dingtalk.refusals == []
    approver_log: list[dict[str, Any]] = []

    async def recorded() -> bool:
        nonlocal approver_log
        approver_log = await deliveries(broker, approver, request_id=request_id)
        return {d["channel"]: d["status"] for d in approver_log} == {
            "webhook": "undeliverable",  # gz-gov registered no webhook endpoint here
            "wecom": "delivered",
            "dingtalk": "delivered",
            "email": "delivered",
        }

    await wait_until(recorded, limit_s=30, what="the notifier to record the four deliveries")
    by_channel = {d["channel"]: d for d in approver_log}
    tries = by_channel["dingtalk"]["attempts"]
    assert [a["outcome"] for a in tries] == ["retry", "delivered"]
    assert tries[0]["error"].startswith("errcode -1: DingTalk is busy")
    assert tries[0]["endpoint_url"].endswith("/robot/send")  # no access token in the log
    assert dingtalk.access_token not in json.dumps(approver_log)
    assert wecom.key not in json.dumps(approver_log)
    assert by_channel["wecom"]["id"] == f"{by_channel['webhook']['id']}.wecom"
    # the webhook's data carries the console page too (contract v2)
    assert by_channel["webhook"]["payload"]["data"]["console_url"] == console

    # E-mail: over STARTTLS, after logging in, in Chinese with the link and the deadline
    (mail,) = [
        d
        for d in mailbox.received()
        if request_id in str(d.message.get_body(("plain",)).get_content())
    ]
    assert (mail.over_tls, mail.authenticated) == (True, True)
    assert mail.rcpt_tos == ["cdo-office@gz.gov.cn"]
    assert mail.message["Subject"] == "【待审批】广州市公安局的数据共享申请"
    assert mail.message["Message-ID"] == f"<{by_channel['email']['id']}@cdo-broker>"
    text = mail.message.get_body(("plain",)).get_content()
    assert f"办理时限：{when(step['due_at'])}" in text
    assert f"前往首席数据官工作台审批：{console}" in text
    assert f"href='{console}'" in mail.message.get_body(("html",)).get_content()


async def test_a_robot_that_is_gone_disables_its_channel_until_registered_again(
    broker: httpx.AsyncClient, notifier: Settings, sessionmaker: Sessions, token_for: TokenFactory
) -> None:
    org = await new_organisation(sessionmaker)
    headers = await manager(token_for, org)
    robot = WecomRobot(key="the-right-key")
    async with running_receiver() as server:
        server.handler = robot
        wrong = robot_url(server, "/cgi-bin/webhook/send", key="a-removed-key")
        await put_channel(broker, headers, "wecom", {"webhook_url": wrong})
        request_id = f"req_{uuid.uuid4().hex[:20]}"
        assert notifier.kafka_bootstrap_servers
        await produce(
            notifier.kafka_bootstrap_servers,
            topics.APPROVALS,
            [(org.encode(), encoded(approval_task(org, request_id)), approval_headers())],
        )

        async def settled(status: str) -> list[dict[str, Any]]:
            found = await deliveries(broker, headers, request_id=request_id, channel="wecom")
            return found if found and found[0]["status"] == status else []

        await wait_until(lambda: settled("undeliverable"), limit_s=60, what="the 93000 answer")
        disabled = (await broker.get("/v1/notifications/channels/wecom", headers=headers)).json()
        assert disabled["disabled_at"] is not None
        assert disabled["disabled_reason"].startswith("errcode 93000")
        (delivery,) = await settled("undeliverable")
        assert [a["outcome"] for a in delivery["attempts"]] == ["gone"]

        # registered again with the right key: enabled, and the message replays
        right = robot_url(server, "/cgi-bin/webhook/send", key=robot.key)
        enabled = await put_channel(broker, headers, "wecom", {"webhook_url": right})
        assert enabled["disabled_at"] is None
        replayed = await broker.post(
            f"/v1/webhooks/deliveries/{delivery['id']}/replay", headers=headers, json={}
        )
        assert replayed.status_code == 200, replayed.text
        await wait_until(lambda: settled("delivered"), limit_s=60, what="the replay")
    assert len([m for m in robot.accepted if request_id in m["markdown"]["content"]]) == 1


async def test_refused_mail_is_dead_and_replayable(
    broker: httpx.AsyncClient,
    notifier: Settings,
    mailbox: Mailbox,
    sessionmaker: Sessions,
    token_for: TokenFactory,
    tmp_path: Path,
) -> None:
    org = await new_organisation(sessionmaker)
    headers = await manager(token_for, org)
    await put_channel(broker, headers, "email", {"recipients": [f"{org}@gz.gov.cn"]})
    mailbox.refuse_with = "554 5.7.1 message refused"
    request_id = f"req_{uuid.uuid4().hex[:20]}"
    assert notifier.kafka_bootstrap_servers
    await produce(
        notifier.kafka_bootstrap_servers,
        topics.APPROVALS,
        [(org.encode(), encoded(approval_task(org, request_id)), approval_headers())],
    )

    async def status_is(status: str) -> bool:
        found = await deliveries(broker, headers, request_id=request_id, channel="email")
        return bool(found) and found[0]["status"] == status

    await wait_until(lambda: status_is("dead"), limit_s=60, what="the refused mail to be dead")
    (dead,) = await deliveries(broker, headers, request_id=request_id, channel="email")
    assert dead["attempts"][0]["status_code"] == 554
    assert dead["attempts"][0]["endpoint_url"] == f"mailto:{org}@gz.gov.cn"
    replayed = await broker.post(
        f"/v1/webhooks/deliveries/{dead['id']}/replay", headers=headers, json={}
    )
    assert replayed.status_code == 200, replayed.text
    await wait_until(lambda: status_is("delivered"), limit_s=60, what="the replayed mail")
    assert [
        d.rcpt_tos
        for d in mailbox.received()
        if request_id in d.message["Subject"] + str(d.message.get_body(("plain",)).get_content())
    ] == [[f"{org}@gz.gov.cn"]]
