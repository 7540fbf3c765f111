"""Decisions by people: with DECISIONS_REQUIRE_PERSON a system's client credentials decide
nothing (a step nor an appeal), and refused decisions change nothing."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from core.settings import Environment
from testing.appeals import appeal, decide_appeal, refused_by_province
from testing.apps import broker_with
from testing.clients import Headers, decide, file
from testing.settings import Settings
from testing.workloads import request_body

pytestmark = pytest.mark.integration


def test_decisions_require_a_person_by_default_in_production_only(settings: Settings) -> None:
    assert not settings.decisions_require_person
    production = settings.model_copy(update={"environment": Environment.production})
    assert production.decisions_require_person
    assert not production.model_copy(
        update={"decisions_require_person_setting": False}
    ).decisions_require_person


async def test_client_credentials_decisions_are_refused_when_a_person_is_required(
    app: FastAPI, settings: Settings, client: httpx.AsyncClient, as_org: Headers
) -> None:
    body = request_body("gd-rst-social-insurance-enrolment", ["id_number"])
    filed = (await file(client, await as_org("gz-gaj"), body)).json()
    async with broker_with(app, settings, decisions_require_person_setting=True) as strict:
        refused = await decide(strict, await as_org("gz-gov"), filed["id"], decision="approve")
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"].endswith("/person-required")
    after = (await client.get(f"/v1/requests/{filed['id']}", headers=await as_org("gz-gaj"))).json()
    assert after["route"][0]["decisions"] == []
    assert after["status"] == "pending"


async def test_an_appeal_is_not_decided_by_client_credentials_when_a_person_is_required(
    app: FastAPI, settings: Settings, client: httpx.AsyncClient, as_org: Headers
) -> None:
    refused_request = await refused_by_province(client, as_org)
    await appeal(client, await as_org("gz-rsj"), refused_request["id"])
    async with broker_with(app, settings, decisions_require_person_setting=True) as strict:
        refused = await decide_appeal(
            strict, await as_org("gd-gov"), refused_request["id"],
            decision="overturn", comment="同意",
        )  # fmt: skip
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"].endswith("/person-required")
    after = await client.get(
        f"/v1/requests/{refused_request['id']}", headers=await as_org("gz-rsj")
    )
    assert (after.json()["status"], after.json()["appeal"]["status"]) == ("rejected", "pending")
