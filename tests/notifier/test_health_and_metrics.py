"""The notifier's own HTTP port: liveness, readiness and the webhook and consumer series after a
scripted run (one approval task, refused once by its receiver, then delivered)."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from fastapi import FastAPI

from testing.apps import broker_with
from testing.clients import ALL_SCOPES, TokenFactory, bearer, file
from testing.prometheus import series_value
from testing.receivers import Received, Receiver, Reply, running_receiver
from testing.settings import Settings
from testing.waiting import wait_until
from testing.workloads import request_body

pytestmark = pytest.mark.integration
# 河源市人力资源和社会保障局 asks 河源市卫生健康局: a city no other test registers endpoints in
REQUESTER, APPROVER = "hy-rsj", "hy-wjj"
DATASET = "hy-wjj-family-doctor-contracts"


async def test_probes_and_series_after_a_scripted_run(
    app: FastAPI,
    settings: Settings,
    client: httpx.AsyncClient,
    token_for: TokenFactory,
    notifier_port: int,
) -> None:
    base = f"http://127.0.0.1:{notifier_port}"
    async with httpx.AsyncClient(base_url=base) as http:
        health = (await http.get("/healthz")).json()
        assert health["status"] == "ok"
        assert set(health["loops"]) == {"notifier-consumer", "delivery-worker"}
        assert all(loop["restarts"] == 0 for loop in health["loops"].values())
        ready = await http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": "ok", "kafka": "ok"}
        before = (await http.get("/metrics")).text

    approver = bearer(await token_for(APPROVER, ALL_SCOPES + " webhooks:manage"))
    requester = bearer(await token_for(REQUESTER, ALL_SCOPES))
    receiver: Receiver
    async with running_receiver() as receiver:
        refused_once: set[str] = set()

        async def first_refused(received: Received) -> Reply:
            webhook_id = received.headers["webhook-id"]
            if webhook_id in refused_once:
                return Reply(200)
            refused_once.add(webhook_id)
            return Reply(500)

        receiver.handler = first_refused
        async with broker_with(app, settings, webhook_allow_private_urls=True) as broker:
            registered = await broker.put(
                "/v1/webhooks/endpoint", headers=approver, json={"url": receiver.url}
            )
            assert registered.status_code in (200, 201), registered.text
        filed = await file(client, requester, request_body(DATASET, ["contract_number"]))
        assert filed.status_code == 201, filed.text
        request_id = filed.json()["id"]

        def task_delivered() -> bool:
            tasks = [
                r
                for r in receiver.requests
                if json.loads(r.body)["type"] == "approval.requested"
                and json.loads(r.body)["data"]["request_id"] == request_id
            ]
            return len(tasks) >= 2  # refused, then delivered

        await wait_until(task_delivered, limit_s=60, what="the task refused once, then delivered")

    async def scrape() -> str:
        async with httpx.AsyncClient(base_url=base) as http:
            response = await http.get("/metrics")
        assert response.headers["content-type"].startswith("text/plain")
        return response.text

    attempts = "cdo_webhook_attempts_total"

    async def delivered_counted() -> bool:
        text = await scrape()
        return series_value(text, attempts, endpoint=APPROVER, outcome="delivered") > series_value(
            before, attempts, endpoint=APPROVER, outcome="delivered"
        )

    await wait_until(delivered_counted, limit_s=10, what="the delivery to be counted")
    after = await scrape()
    assert series_value(after, attempts, endpoint=APPROVER, outcome="retry") >= 1 + series_value(
        before, attempts, endpoint=APPROVER, outcome="retry"
    )
    assert series_value(after, "cdo_webhook_failures_total", endpoint=APPROVER, status="500") >= 1
    assert series_value(after, "cdo_webhook_duration_seconds_count", endpoint=APPROVER) >= 2

    async def lag_reported() -> bool:  # measured at most once a second, from the last fetch
        lag = r'^cdo_notifier_consumer_lag\{.*topic="datashare.approvals"'
        return re.search(lag, await scrape(), re.M) is not None

    await wait_until(lag_reported, limit_s=10, what="the consumer lag gauge")
    ages = await scrape()
    for loop in ("notifier-consumer", "delivery-worker", "delivery-recorder"):
        assert re.search(rf'^cdo_loop_last_success_age_seconds\{{.*loop="{loop}"', ages, re.M)
