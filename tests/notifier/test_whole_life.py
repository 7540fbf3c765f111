"""A request's whole life seen only through webhooks, with the real notifier, Kafka and HTTP
receivers on loopback: CDO systems decide from what they receive, the requester hears the outcome
and the grant. Every delivery verifies with the reference `standardwebhooks` package."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from standardwebhooks import Webhook

from testing.apps import BASE_URL, broker_with, running_notifier
from testing.clients import ALL_SCOPES, TokenFactory, bearer
from testing.receivers import Received, Receiver, Reply, running_receiver
from testing.settings import Settings
from testing.waiting import wait_until
from testing.workloads import request_body

pytestmark = pytest.mark.integration
ORGS = ["gz-gaj", "gz-gov", "gd-rst"]  # requester, its government, the provider


@pytest.fixture
async def loopback_app(settings: Settings, app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The broker as the local demo runs it: loopback webhook URLs allowed."""
    async with broker_with(app, settings, webhook_allow_private_urls=True) as http:
        yield http


@pytest.fixture
async def notifier(settings: Settings) -> AsyncIterator[None]:
    async with running_notifier(settings):
        yield


async def test_a_request_decided_entirely_from_webhooks(
    loopback_app: httpx.AsyncClient, notifier: None, token_for: TokenFactory
) -> None:
    tokens = {org: bearer(await token_for(org, ALL_SCOPES + " webhooks:manage")) for org in ORGS}
    async with AsyncExitStack() as stack:
        receivers: dict[str, Receiver] = {
            org: await stack.enter_async_context(running_receiver()) for org in ORGS
        }
        signing: dict[str, str] = {}
        for org, receiver in receivers.items():
            registered = await loopback_app.put(
                "/v1/webhooks/endpoint", headers=tokens[org], json={"url": receiver.url}
            )
            assert registered.status_code in (200, 201), registered.text
            signing[org] = registered.json()["secret"]

        decided: list[str] = []
        problems: list[str] = []
        ours: set[str] = set()

        def cdo_system(org: str) -> Any:
            async def on_webhook(received: Received) -> Reply:
                try:
                    Webhook(signing[org]).verify(received.body, received.headers)
                except Exception as exc:
                    problems.append(f"{org}: signature refused: {exc!r}")
                    return Reply(400)
                event = json.loads(received.body)
                if event["data"].get("request_id") not in ours:
                    # other tests' leftovers; ours, if early, is retried once we know its id
                    return Reply(200 if ours else 503)
                if event["type"] == "approval.requested":
                    url = event["data"]["decision_url"].removeprefix(BASE_URL)
                    decision = {"decision": "approve"}
                    # the task flags personal fields: granting them, the CDO says why
                    if any(f["personal"] for f in event["data"]["dataset"]["fields"]):
                        decision["comment"] = "核定参保资格所需，同意。"
                    answer = await loopback_app.post(url, headers=tokens[org], json=decision)
                    if answer.status_code != 200:
                        problems.append(f"{org}: decision answered {answer.text}")
                    decided.append(org)
                return Reply(200)

            return on_webhook

        for org, receiver in receivers.items():
            receiver.handler = cdo_system(org)

        filed = await loopback_app.post(
            "/v1/requests",
            headers=tokens["gz-gaj"],
            json=request_body("gd-rst-social-insurance-enrolment", ["id_number"]),
        )
        request_id = filed.json()["id"]
        ours.add(request_id)

        def outcome_heard() -> bool:
            heard = [json.loads(r.body) for r in receivers["gz-gaj"].requests]
            types = {e["type"] for e in heard if e["data"].get("request_id") == request_id}
            return {"request.decided", "grant.issued"} <= types

        await wait_until(outcome_heard, limit_s=60, what="the requester to hear the outcome")

    assert problems == []
    assert decided == ["gz-gov", "gd-rst"]
    requester_heard = [json.loads(r.body) for r in receivers["gz-gaj"].requests]
    outcome = next(
        e
        for e in requester_heard
        if e["type"] == "request.decided" and e["data"]["request_id"] == request_id
    )
    assert outcome["data"]["request_id"] == request_id
    assert outcome["data"]["status"] == "approved"
    grant = next(
        e
        for e in requester_heard
        if e["type"] == "grant.issued" and e["data"]["request_id"] == request_id
    )
    assert grant["data"]["scope"] == "dataset:gd-rst-social-insurance-enrolment:read"
    for receiver in receivers.values():
        for received in receiver.requests:
            assert received.headers["webhook-id"].startswith("msg_")
            assert received.headers.get("traceparent")

    # The operator's view of the same life: events in order, each webhook and its attempts.
    timeline: dict[str, Any] = {}

    async def settled() -> bool:
        # the receiver has answered; the notifier records the attempt just after
        nonlocal timeline
        timeline = (
            await loopback_app.get(f"/v1/requests/{request_id}/timeline", headers=tokens["gz-gaj"])
        ).json()
        return all(
            w["status"] == "delivered" for w in timeline["webhooks"] if w["recipient"] in ORGS
        )

    await wait_until(settled, limit_s=30, what="the notifier to record its deliveries")
    types = [e["type"] for e in timeline["events"]]
    assert types[:3] == ["request.submitted", "request.routed", "approval.requested"]
    assert types[-2:] == ["grant.issued", "request.approved"]
    tasks = [e for e in timeline["events"] if e["type"] == "approval.requested"]
    assert [t["actor"] for t in tasks] == ["gz-gov", "gd-rst"]
    assert all(t["due_at"] for t in tasks)
    assert {e["trace_id"] for e in timeline["events"]} == {timeline["trace_id"]}
    decided = next(w for w in timeline["webhooks"] if w["type"] == "request.decided")
    assert decided["recipient"] == "gz-gaj"
    assert decided["status"] == "delivered"
    assert [a["status_code"] for a in decided["attempts"]] == [200]
    outsider = await loopback_app.get(
        f"/v1/requests/{request_id}/timeline", headers=bearer(await token_for("sz-gaj", ALL_SCOPES))
    )
    assert outsider.status_code == 404
