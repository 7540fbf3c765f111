"""Graded, described datasets through the API: the catalog shows grade, field flags and
attributes; routing adds approvers by grade; approval tasks carry what a CDO judges by; an
approval that grants personal fields says why (minimisation)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models.outbox import OutboxEvent
from testing.clients import Headers, decide, file, route_of
from testing.workloads import request_body

pytestmark = pytest.mark.integration
IMPORTANT = "gd-zrzyt-real-estate-registration"  # conditional, important, owned by gd-zrzyt
CORE = "gd-zrzyt-classified-geodata"  # not shareable, core
PERSONAL = "gz-gaj-household-migration"  # conditional, general, personal fields


async def _file(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> httpx.Response:
    return await file(client, headers, request_body(**body))


async def test_the_catalog_describes_grade_flags_and_attributes(
    client: httpx.AsyncClient, as_org: Headers
) -> None:
    dataset = (await client.get(f"/v1/datasets/{PERSONAL}", headers=await as_org("gz-rsj"))).json()
    assert dataset["grade"] == "general"
    assert dataset["resource_code"] == "440100-GAJ-0001"
    assert dataset["sharing_method"] == "api"
    assert dataset["update_cycle"] == "daily"
    assert dataset["open_attribute"] == "not_open"
    assert dataset["sharing_conditions"]
    flags = {f["name"]: (f["personal"], f["sensitive"]) for f in dataset["fields"]}
    assert flags["id_number"] == (True, False)
    assert flags["police_station"] == (False, False)
    core = (await client.get(f"/v1/datasets/{CORE}", headers=await as_org("gz-rsj"))).json()
    assert core["grade"] == "core"


async def test_important_data_adds_the_provider_government(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    filed = await _file(
        client, await as_org("gd-rst"), dataset_id=IMPORTANT, fields=["unit_number", "location"]
    )
    assert filed.status_code == 201, filed.text
    request = filed.json()
    assert route_of(request) == [["gd-zrzyt"], ["gd-gov"]]
    assert request["routing_rule"] == "conditional+important"
    async with sessionmaker() as session:
        task = await session.scalar(
            select(OutboxEvent.data).where(
                OutboxEvent.subject == request["id"], OutboxEvent.topic == "datashare.approvals"
            )
        )
    assert task is not None
    assert task["dataset"]["grade"] == "important"
    assert task["dataset"]["resource_code"].startswith("440000-ZRZYT-")
    assert {f["name"] for f in task["dataset"]["fields"]} == {"unit_number", "location"}
    assert task["route"][0]["sla_working_days"] == 3


async def test_core_data_needs_a_legal_basis_and_the_provincial_bureau(
    client: httpx.AsyncClient, as_org: Headers
) -> None:
    requester = await as_org("gd-gat")
    refused = await _file(client, requester, dataset_id=CORE, fields=["tile_id"])
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("/not-shareable")
    filed = await _file(
        client, requester, dataset_id=CORE, fields=["tile_id"], legal_basis="《测绘法》第三十四条"
    )
    assert filed.status_code == 201, filed.text
    assert route_of(filed.json()) == [["gd-zrzyt"], ["gd-gov"], ["gd-dsb"]]


async def test_granting_personal_fields_needs_a_reason(
    client: httpx.AsyncClient, as_org: Headers
) -> None:
    filed = await _file(
        client,
        await as_org("gz-rsj"),
        dataset_id=PERSONAL,
        fields=["id_number", "name", "approved_on"],
    )
    request = filed.json()
    provider = await as_org("gz-gaj")
    silent = await decide(client, provider, request["id"], decision="approve", comment=None)
    assert silent.status_code == 422
    problem = silent.json()
    assert problem["type"].endswith("/minimisation-reason-required")
    assert problem["field"] == "comment"
    assert problem["personal_fields"] == ["id_number", "name"]
    assert problem["title"] == "授予个人信息须说明理由"
    assert silent.headers["content-language"] == "zh-CN"
    # narrowed to what is not personal, no reason is needed
    narrowed = await decide(
        client, provider, request["id"], decision="approve", fields=["approved_on"], comment=None
    )
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["granted_fields"] == ["approved_on"]
