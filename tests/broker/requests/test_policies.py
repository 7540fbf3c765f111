"""Routing is data: a different policy file changes who decides, e.g. N approvals of a set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi import FastAPI

from testing.apps import broker_with
from testing.clients import Headers, decide, file, route_of
from testing.settings import Settings
from testing.workloads import request_body

pytestmark = pytest.mark.integration

TWO_OF_THREE = {
    "version": 1,
    "escalation": ["department", "government", "data_bureau"],
    "reminder_before_seconds": 3600,
    "rules": [
        {
            "name": "two-of-three",
            "when": {"sharing_class": "conditional"},
            "steps": [
                {
                    "approvers": [
                        "provider_department",
                        "provider_government",
                        "provider_data_bureau",
                    ],
                    "required": 2,
                    "sla_seconds": 3600,
                }
            ],
        },
        {"name": "everything-else", "when": {}, "outcome": "approve"},
    ],
}


@pytest.fixture
async def two_of_three(
    settings: Settings, app: FastAPI, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(TWO_OF_THREE), encoding="utf-8")
    async with broker_with(app, settings, routing_policy_file=policy) as http:
        yield http


async def test_a_step_can_need_two_approvals_of_three(
    two_of_three: httpx.AsyncClient, as_org: Headers
) -> None:
    body = request_body("gz-gaj-household-migration", ["id_number"])
    request = (await file(two_of_three, await as_org("gz-rsj"), body)).json()
    assert route_of(request) == [["gz-gaj", "gz-gov", "gz-dsb"]]
    assert request["route"][0]["required"] == 2

    one = await decide(two_of_three, await as_org("gz-gov"), request["id"], decision="approve")
    assert one.json()["status"] == "pending"
    two = await decide(two_of_three, await as_org("gz-dsb"), request["id"], decision="approve")
    assert two.json()["status"] == "approved"
    late = await decide(two_of_three, await as_org("gz-gaj"), request["id"], decision="approve")
    assert late.status_code == 409  # the request is closed


async def test_two_rejections_of_three_reject(
    two_of_three: httpx.AsyncClient, as_org: Headers
) -> None:
    body = request_body("gz-gaj-household-migration", ["id_number"])
    request = (await file(two_of_three, await as_org("gz-rsj"), body)).json()

    await decide(
        two_of_three, await as_org("gz-gaj"), request["id"], decision="reject", comment="否"
    )
    still_open = await decide(
        two_of_three, await as_org("gz-gov"), request["id"], decision="approve"
    )
    assert still_open.json()["status"] == "pending"
    closed = await decide(
        two_of_three, await as_org("gz-dsb"), request["id"], decision="reject", comment="否"
    )
    assert closed.json()["status"] == "rejected"
