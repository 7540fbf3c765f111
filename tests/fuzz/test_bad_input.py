"""Bad input at each writing endpoint, and bad paging at each listing: a clear 4xx problem,
naming the field where there is one, and nothing stored.

tests/broker/test_abuse_limits.py holds the first of these for filing (an oversized body by
length and as it streams, a body that is not UTF-8, a huge page size); this extends them to
decisions, datasets and the webhook endpoint, to NUL characters, and to every listing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.oauth.scopes import Scope
from core.db import Base
from core.models.catalog import Dataset
from core.models.outbox import OutboxEvent
from core.models.requests import DataRequest, Decision
from core.models.webhooks import WebhookEndpoint
from testing.clients import ALL_SCOPES, TokenFactory, bearer
from testing.settings import Settings
from testing.workloads import request_body

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"
DATASET = "gz-gaj-household-migration"  # conditional, one step: gz-gaj decides
EVERY_SCOPE = " ".join(scope.value for scope in Scope)


@dataclass(frozen=True)
class Write:
    """A writing call with a body it would accept, and the table an acceptance adds to."""

    method: str
    path: str
    caller: str  # organisation
    scope: str
    body: dict[str, Any]
    stores: type[Base]
    text_field: str  # a string field of the body, to spoil


def _dataset() -> dict[str, Any]:
    return {
        "id": f"bad-input-{uuid.uuid4().hex[:8]}",
        "name": "坏输入测试",
        "name_en": "bad input test",
        "owner_id": "gd-dsb",
        "sharing_class": "conditional",
        "fields": [{"name": "a", "label": "甲"}],
    }


WRITES = {
    "filing": Write(
        "POST",
        "/v1/requests",
        "gz-rsj",
        ALL_SCOPES,
        request_body(DATASET, ["id_number"]),
        DataRequest,
        "purpose",
    ),
    "decision": Write(
        "POST",
        "/v1/requests/{request_id}/decision",
        "gz-gaj",
        ALL_SCOPES,
        {"decision": "approve", "comment": "同意 / approved"},
        Decision,
        "comment",
    ),
    "dataset": Write(
        "POST", "/v1/datasets", "gd-dsb", "catalog:admin", _dataset(), Dataset, "name_en"
    ),
    "webhook endpoint": Write(
        "PUT",
        "/v1/webhooks/endpoint",
        "gz-jyj",
        "webhooks:manage",
        {"url": "https://cdo.example.org/hooks"},
        WebhookEndpoint,
        "url",
    ),
}

Send = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture(scope="module")
async def pending_request(client: httpx.AsyncClient, token_for: TokenFactory) -> str:
    """A request awaiting gz-gaj's decision, for the decision cases (none of them decides)."""
    headers = bearer(await token_for("gz-rsj", ALL_SCOPES))
    filed = await client.post("/v1/requests", headers=headers, json=WRITES["filing"].body)
    assert filed.status_code == 201, filed.text
    request_id: str = filed.json()["id"]
    return request_id


async def _counts(
    sessionmaker: async_sessionmaker[AsyncSession], table: type[Base]
) -> tuple[int, int]:
    async with sessionmaker() as session:
        rows = await session.scalar(select(func.count()).select_from(table))
        events = await session.scalar(select(func.count()).select_from(OutboxEvent))
    return rows or 0, events or 0


def _fields(problem: dict[str, Any]) -> list[str]:
    """The fields a problem names: each in `errors` (validation), or its `field` (the rules)."""
    if "errors" in problem:
        return [error["field"] for error in problem["errors"]]
    return [problem["field"]]


def _spoiled(body: dict[str, Any], field: str, marker: str) -> bytes:
    """The body as JSON, with `marker` (raw JSON text) inside the string `field`."""
    spoiled = json.dumps(body | {field: "@@"}, ensure_ascii=False).encode()
    return spoiled.replace(b'"@@"', b'"x' + marker.encode("latin-1") + b'x"')


BAD_BODIES: dict[str, Callable[[Write, Settings], tuple[bytes, str]]] = {
    # name: (the request body, its Content-Type)
    "oversized": lambda w, s: (_spoiled(w.body, w.text_field, "y" * s.max_body_bytes), "json"),
    "not JSON": lambda w, s: (b"url=x&decision=approve", "application/x-www-form-urlencoded"),
    "JSON sent as text": lambda w, s: (json.dumps(w.body).encode(), "text/plain"),
    "no content type": lambda w, s: (json.dumps(w.body).encode(), ""),
    "invalid UTF-8": lambda w, s: (_spoiled(w.body, w.text_field, "\xff\xfe"), "json"),
    "NUL character": lambda w, s: (_spoiled(w.body, w.text_field, "\\u0000"), "json"),
    "truncated JSON": lambda w, s: (json.dumps(w.body).encode()[:-3], "json"),
    "not an object": lambda w, s: (b'["approve"]', "json"),
}
EXPECTED = {
    "oversized": (413, "payload-too-large", None),
    "not JSON": (415, "unsupported-media-type", None),
    "JSON sent as text": (415, "unsupported-media-type", None),
    "no content type": (415, "unsupported-media-type", None),
    "invalid UTF-8": (400, "bad-request", None),
    "NUL character": (422, "validation-error", "text_field"),
    "truncated JSON": (422, "validation-error", "body"),
    "not an object": (422, "validation-error", "body"),
}


@pytest.mark.parametrize("defect", list(BAD_BODIES))
@pytest.mark.parametrize("write", list(WRITES))
async def test_a_bad_body_is_a_4xx_problem_and_nothing_is_stored(
    write: str,
    defect: str,
    client: httpx.AsyncClient,
    token_for: TokenFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    pending_request: str,
) -> None:
    call = WRITES[write]
    path = call.path.format(request_id=pending_request)
    headers = bearer(await token_for(call.caller, call.scope))
    content, media_type = BAD_BODIES[defect](call, settings)
    if media_type:
        headers["Content-Type"] = "application/json" if media_type == "json" else media_type
    before = await _counts(sessionmaker, call.stores)

    response = await client.request(call.method, path, headers=headers, content=content)

    status, slug, field = EXPECTED[defect]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"].endswith(f"/{slug}")
    assert problem["status"] == status
    if field is not None:
        named = call.text_field if field == "text_field" else field
        assert _fields(problem) == [named], problem
        assert problem["detail"].startswith(f"{named}: ")
    assert await _counts(sessionmaker, call.stores) == before, "something was stored"


LISTINGS = ["/v1/requests", "/v1/organisations", "/v1/datasets", "/v1/grants"]
LISTINGS += ["/v1/webhooks/deliveries"]
BAD_PAGING = {
    "huge page": {"limit": "100000"},
    "one too many": {"limit": "201"},
    "negative page": {"limit": "-1"},
    "empty page": {"limit": "0"},
    "page size in words": {"limit": "ten"},
    "cursor not base64": {"cursor": "!!!"},
    "cursor of a NUL": {"cursor": "AA"},
    "cursor not UTF-8": {"cursor": "__8"},
    "cursor of nothing": {"cursor": "bm90IGEga2V5IG9mIG91cnM"},  # "not a key of ours"
}


@pytest.mark.parametrize("paging", list(BAD_PAGING))
@pytest.mark.parametrize("listing", LISTINGS)
async def test_bad_paging_is_422_naming_the_parameter(
    listing: str, paging: str, client: httpx.AsyncClient, token_for: TokenFactory
) -> None:
    headers = bearer(await token_for("gd-dsb", EVERY_SCOPE))
    params = BAD_PAGING[paging]

    response = await client.get(listing, headers=headers, params=params)

    if paging == "cursor of nothing" and listing != "/v1/webhooks/deliveries":
        # an opaque key past every id: an empty page, as the last page of a walk would be
        assert response.status_code == 200, response.text
        return
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert _fields(response.json()) == list(params)


@pytest.mark.parametrize("listing", LISTINGS)
async def test_the_largest_page_is_accepted(
    listing: str, client: httpx.AsyncClient, token_for: TokenFactory
) -> None:
    headers = bearer(await token_for("gd-dsb", EVERY_SCOPE))
    response = await client.get(listing, headers=headers, params={"limit": 200})
    assert response.status_code == 200, response.text
