"""A problem report's life through webhooks, with the real notifier, Kafka and HTTP receivers on
loopback: the bodies named hear of the report, and the reporter hears the bureau's answer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks import Webhook

from cdo_broker_client.events import ProblemWebhook, parse_webhook
from core.models.webhooks import WebhookDelivery
from testing.apps import broker_with, running_notifier
from testing.clients import ALL_SCOPES, TokenFactory, bearer
from testing.organisations import fresh_body
from testing.receivers import Receiver, running_receiver
from testing.settings import Settings
from testing.waiting import wait_until

pytestmark = pytest.mark.integration
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def loopback_app(settings: Settings, app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with broker_with(app, settings, webhook_allow_private_urls=True) as http:
        yield http


def _heard(receiver: Receiver, secret: str, problem_id: str) -> list[ProblemWebhook]:
    heard = []
    for received in receiver.requests:
        Webhook(secret).verify(received.body, received.headers)
        event = parse_webhook(json.loads(received.body))
        if isinstance(event, ProblemWebhook) and event.data.problem_id == problem_id:
            heard.append(event)
    return heard


async def test_the_bodies_named_hear_of_a_report_and_the_reporter_of_its_answer(
    loopback_app: httpx.AsyncClient,
    settings: Settings,
    sessionmaker: Sessions,
    token_for: TokenFactory,
) -> None:
    reporter = await fresh_body(sessionmaker, prefix="prb")
    named = await fresh_body(sessionmaker, prefix="prb")
    tokens = {
        org: bearer(await token_for(org, ALL_SCOPES + " webhooks:manage"))
        for org in (reporter, named, "gd-dsb")
    }
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(running_notifier(settings))
        receivers: dict[str, Receiver] = {}
        secrets: dict[str, str] = {}
        for org in (reporter, named):
            receivers[org] = await stack.enter_async_context(running_receiver())
            registered = await loopback_app.put(
                "/v1/webhooks/endpoint", headers=tokens[org], json={"url": receivers[org].url}
            )
            assert registered.status_code == 201, registered.text
            secrets[org] = registered.json()["secret"]

        filed = await loopback_app.post(
            "/v1/reports/problems",
            headers=tokens[reporter],
            json={
                "summary": "数据资源目录缺少所需数据",
                "details": "所需的不动产登记数据未编入目录，无法提出共享申请。",
                "concerns": {"organisations": [named]},
            },
        )
        assert filed.status_code == 201, filed.text
        problem_id = filed.json()["id"]
        await wait_until(
            lambda: _heard(receivers[named], secrets[named], problem_id),
            limit_s=60,
            what="the body named to hear of the report",
        )
        answered = await loopback_app.post(
            f"/v1/reports/problems/{problem_id}/answer",
            headers=tokens["gd-dsb"],
            json={"resolution": "已通知自然资源部门于十个工作日内编目。"},
        )
        assert answered.status_code == 200, answered.text

        def answer_heard() -> list[ProblemWebhook]:
            return [
                e
                for e in _heard(receivers[reporter], secrets[reporter], problem_id)
                if e.type == "problem.answered"
            ]

        await wait_until(answer_heard, limit_s=60, what="the reporter to hear the answer")

    [answer] = answer_heard()
    assert answer.data.resolution == "已通知自然资源部门于十个工作日内编目。"
    assert {e.type for e in _heard(receivers[named], secrets[named], problem_id)} == {
        "problem.reported",
        "problem.answered",
    }
    # the reporter is not told of its own report; the bureau's notice is recorded for it
    assert [e.type for e in _heard(receivers[reporter], secrets[reporter], problem_id)] == [
        "problem.answered"
    ]
    async with sessionmaker() as session:
        to_bureau: list[Any] = list(
            await session.scalars(
                select(WebhookDelivery.event_type).where(
                    WebhookDelivery.organisation_id == "gd-dsb",
                    WebhookDelivery.payload["data"]["problem_id"].as_string() == problem_id,
                )
            )
        )
    assert to_bureau == ["problem.reported"]
