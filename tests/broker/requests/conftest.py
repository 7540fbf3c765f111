from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import TokenFactory, bearer

ALL_SCOPES = "requests:submit requests:read approvals:decide grants:read grants:use"

Headers = Callable[[str], Awaitable[dict[str, str]]]


@pytest.fixture(scope="session")
def as_org(token_for: TokenFactory) -> Headers:
    """Authorization headers for an organisation's system, one token per org per session."""
    cache: dict[str, dict[str, str]] = {}

    async def headers(org_id: str) -> dict[str, str]:
        if org_id not in cache:
            cache[org_id] = bearer(await token_for(org_id, ALL_SCOPES))
        return cache[org_id]

    return headers


def request_body(dataset_id: str, fields: list[str], **extra: Any) -> dict[str, Any]:
    start = datetime.now(UTC).replace(microsecond=0)
    return {
        "kind": "share",
        "dataset_id": dataset_id,
        "fields": fields,
        "purpose": "政务服务一网通办核验 / identity checks for online services",
        "legal_basis": None,
        "period": {
            "start": start.isoformat(),
            "end": (start + timedelta(days=365)).isoformat(),
        },
        **extra,
    }


async def file(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], **kw: Any
) -> httpx.Response:
    return await client.post(
        "/v1/requests", headers=headers | kw.pop("extra_headers", {}), json=body
    )


async def decide(
    client: httpx.AsyncClient, headers: dict[str, str], request_id: str, **body: Any
) -> httpx.Response:
    return await client.post(f"/v1/requests/{request_id}/decision", headers=headers, json=body)


def route_of(request: dict[str, Any]) -> list[list[str]]:
    return [
        [a["organisation_id"] for a in step["approvers"] if a["current"]]
        for step in request["route"]
    ]


@pytest.fixture(scope="package", autouse=True)
async def every_event_validates(sessionmaker: Any) -> AsyncIterator[None]:
    """After this package's tests: every event they wrote validates against its JSON Schema."""
    from sqlalchemy import select

    from broker.outbox.models import OutboxEvent
    from tests.broker.requests.test_events import validator_for

    yield
    async with sessionmaker() as session:
        events = list(await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))
    ours = [e for e in events if e.type.startswith("cn.gov.gd.cdo.")]
    assert ours, "the lifecycle tests wrote no events"
    for event in ours:
        validator_for(event.type).validate(event.data)
