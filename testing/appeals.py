"""Appeals (申请协调) as the tests make them: a request refused by a provincial department, a
refusal among fresh bodies of a fresh county (whose government may then lose its CDO without
disturbing anyone else's test), the appeal and its decision through the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from testing.clients import Headers, Sessions, decide, file
from testing.organisations import fresh_body, fresh_dataset
from testing.workloads import request_body

# gz-rsj asks for gd-gat's data: gz-gov endorses (cross-level), then gd-gat decides
CROSS_LEVEL = ("gd-gat-population-basic", ["id_number", "name", "gender"])
REASON = "用于人才落户审核，已采取脱敏措施，请求协调"


async def appeal(
    client: httpx.AsyncClient, headers: dict[str, str], request_id: str, reason: str = REASON
) -> httpx.Response:
    """`POST /v1/requests/{id}/appeal`."""
    return await client.post(
        f"/v1/requests/{request_id}/appeal", headers=headers, json={"reason": reason}
    )


async def decide_appeal(
    client: httpx.AsyncClient, headers: dict[str, str], request_id: str, **body: Any
) -> httpx.Response:
    """`POST /v1/requests/{id}/appeal/decision`."""
    return await client.post(
        f"/v1/requests/{request_id}/appeal/decision", headers=headers, json=body
    )


async def refused_by_province(client: httpx.AsyncClient, as_org: Headers) -> dict[str, Any]:
    """gz-rsj's request for gd-gat's data: gz-gov endorses, gd-gat rejects."""
    filed = await file(client, await as_org("gz-rsj"), request_body(*CROSS_LEVEL))
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["id"]
    endorsed = await decide(client, await as_org("gz-gov"), request_id, decision="approve")
    assert endorsed.status_code == 200, endorsed.text
    rejected = await decide(
        client, await as_org("gd-gat"), request_id, decision="reject", comment="涉及个人信息"
    )
    assert rejected.json()["status"] == "rejected", rejected.text
    return dict(rejected.json())


@dataclass(frozen=True)
class County:
    """A fresh county government under Guangzhou (with a CDO) and two departments of it."""

    government: str
    requester: str
    provider: str


async def fresh_county(sessionmaker: Sessions) -> County:
    government = await fresh_body(
        sessionmaker, kind="government", level="county", parent_id="gz-gov", prefix="apl"
    )
    requester, provider = [
        await fresh_body(sessionmaker, government_id=government, level="county", prefix="apl")
        for _ in range(2)
    ]
    return County(government, requester, provider)


async def refused_in_county(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: Sessions, county: County
) -> str:
    """The county requester's request for the provider's data, which the provider rejects."""
    dataset = await fresh_dataset(sessionmaker, county.provider)
    filed = await file(client, await as_org(county.requester), request_body(dataset, ["code"]))
    assert filed.status_code == 201, filed.text
    request_id: str = filed.json()["id"]
    rejected = await decide(
        client, await as_org(county.provider), request_id, decision="reject", comment="不予共享"
    )
    assert rejected.json()["status"] == "rejected", rejected.text
    return request_id
