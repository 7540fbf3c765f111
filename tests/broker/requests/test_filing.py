"""Filing: bad bodies are 422 naming the field and store nothing; Idempotency-Key is honoured."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models.requests import DataRequest
from testing.clients import Headers, file
from testing.filing import file_directly
from testing.workloads import request_body

pytestmark = pytest.mark.integration


async def _count(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(DataRequest)) or 0


BAD_BODIES: list[tuple[str, dict[str, Any]]] = [
    ("dataset_id", {"dataset_id": "no-such-dataset"}),
    ("fields", {"fields": ["id_number", "shoe_size"]}),
    ("fields", {"fields": []}),
    (
        "period",
        {"period": {"start": "2027-01-01T00:00:00+08:00", "end": "2026-01-01T00:00:00+08:00"}},
    ),
    ("period.end", {"period": {"start": "2020-01-01T00:00:00Z", "end": "2020-06-01T00:00:00Z"}}),
    ("period.start", {"period": {"start": "2027-01-01T00:00", "end": "2028-01-01T00:00:00Z"}}),
    ("kind", {"kind": "borrow"}),
    ("purpose", {"purpose": ""}),
    ("jurisdiction", {"jurisdiction": "440100"}),  # a share names none
    ("requester_id", {"requester_id": "gd-gov"}),  # never a body field
]


@pytest.mark.parametrize(("field", "change"), BAD_BODIES, ids=[f for f, _ in BAD_BODIES])
async def test_bad_bodies_are_422_naming_the_field_and_nothing_is_stored(
    client: httpx.AsyncClient,
    as_org: Headers,
    sessionmaker: async_sessionmaker[AsyncSession],
    field: str,
    change: dict[str, Any],
) -> None:
    before = await _count(sessionmaker)
    body = request_body("gz-gaj-household-migration", ["id_number"]) | change

    response = await file(client, await as_org("gz-rsj"), body)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in response.json()["detail"], response.json()
    assert await _count(sessionmaker) == before


async def test_the_same_idempotency_key_and_body_give_the_same_request(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    headers = await as_org("gz-rsj")
    key = {"Idempotency-Key": secrets.token_hex(8)}
    body = request_body("gz-gaj-household-migration", ["id_number"])

    first = await file(client, headers, body, extra_headers=key)
    before = await _count(sessionmaker)
    again = await file(client, headers, body, extra_headers=key)
    other = await file(client, headers, body | {"fields": ["name"]}, extra_headers=key)

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert other.status_code == 409
    assert other.json()["type"].endswith("/idempotency-key-reused")
    assert await _count(sessionmaker) == before


async def test_the_same_key_from_another_body_is_another_request(
    client: httpx.AsyncClient, as_org: Headers
) -> None:
    key = {"Idempotency-Key": secrets.token_hex(8)}
    body = request_body("gd-rst-social-insurance-enrolment", ["id_number"])
    one = await file(client, await as_org("gz-rsj"), body, extra_headers=key)
    two = await file(client, await as_org("sz-gaj"), body, extra_headers=key)
    assert one.json()["id"] != two.json()["id"]


async def test_racing_filings_with_one_key_make_one_request(
    client: httpx.AsyncClient, as_org: Headers, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    headers = await as_org("gz-rsj")
    key = {"Idempotency-Key": secrets.token_hex(8)}
    body = request_body("gz-gaj-household-migration", ["name"])
    before = await _count(sessionmaker)

    responses = await asyncio.gather(
        *(file(client, headers, body, extra_headers=key) for _ in range(5))
    )

    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await _count(sessionmaker) == before + 1


async def test_listing_filters_and_pages(client: httpx.AsyncClient, as_org: Headers) -> None:
    zh = await as_org("zh-dsb")
    ids = [
        (await file(client, zh, request_body("gz-gaj-household-migration", ["id_number"]))).json()[
            "id"
        ]
        for _ in range(3)
    ]
    page = (
        await client.get(
            "/v1/requests",
            headers=zh,
            params={"role": "requester", "dataset_id": "gz-gaj-household-migration", "limit": 2},
        )
    ).json()
    assert [r["id"] for r in page["items"]] == ids[::-1][:2]
    rest = (
        await client.get(
            "/v1/requests",
            headers=zh,
            params={
                "role": "requester",
                "limit": 2,
                "cursor": page["next_cursor"],
                "dataset_id": "gz-gaj-household-migration",
            },
        )
    ).json()
    assert [r["id"] for r in rest["items"]] == ids[:1]
    as_approver = (
        await client.get(
            "/v1/requests",
            headers=await as_org("gz-gaj"),
            params={
                "role": "approver",
                "status": "pending",
                "dataset_id": "gz-gaj-household-migration",
                "limit": 200,
            },
        )
    ).json()["items"]
    assert all(r["status"] == "pending" for r in as_approver)
    assert set(ids) <= {r["id"] for r in as_approver}
    bad = await client.get("/v1/requests", headers=zh, params={"status": "maybe"})
    assert bad.status_code == 422


async def test_the_database_alone_settles_an_idempotency_key(
    client: httpx.AsyncClient,
    as_org: Headers,
    app: Any,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A repeat through the API or straight through the service, with no cache in front, is
    the first filing; a new key files anew, once."""
    headers = await as_org("gz-rsj")
    key = secrets.token_hex(8)
    body = request_body("gz-gaj-household-migration", ["id_number"])
    first = (await file(client, headers, body, extra_headers={"Idempotency-Key": key})).json()
    again = await file(client, headers, body, extra_headers={"Idempotency-Key": key})
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]

    async def filed_directly(idempotency_key: str) -> tuple[str, bool]:
        async with sessionmaker() as session:
            filed = await file_directly(session, app, "gz-rsj", body, idempotency_key)
            await session.commit()
            return filed.request.id, filed.created

    assert await filed_directly(key) == (first["id"], False)
    fresh = secrets.token_hex(8)
    new_id, created = await filed_directly(fresh)
    assert created
    assert await filed_directly(fresh) == (new_id, False)


@pytest.mark.parametrize(
    ("requester", "dataset", "fields"),
    [
        ("gz-gaj", "gd-rst-labour-dispatch-licences", ["licence_number"]),  # approved at once
        ("gz-rsj", "gz-gaj-household-migration", ["id_number"]),  # one step
        ("gz-gaj", "gd-rst-social-insurance-enrolment", ["id_number"]),  # two steps
    ],
)
async def test_the_answer_to_a_filing_is_the_request_as_read_back(
    client: httpx.AsyncClient, as_org: Headers, requester: str, dataset: str, fields: list[str]
) -> None:
    """The 201 is built from what filing wrote, not read back: it must say what a GET says."""
    headers = await as_org(requester)
    filed = await file(client, headers, request_body(dataset, fields))
    assert filed.status_code == 201, filed.text

    read = await client.get(filed.headers["Location"], headers=headers)

    assert read.status_code == 200, read.text
    assert filed.json() == read.json()
    for step in filed.json()["route"]:
        assert all(approver["cdo"] for approver in step["approvers"])
