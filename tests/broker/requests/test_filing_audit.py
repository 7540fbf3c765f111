"""Filing is audited: each filing, of every kind, writes one `request.filed` row naming the
organisation, the client and the person, with what was asked, in the request's transaction (an
approval at once chains its `grant.issued` after it); a repeat with the same Idempotency-Key and
a refused filing write none."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from broker.audit import service as audit
from core.models.audit import AuditEntry
from core.models.requests import DataRequest
from testing.apps import BASE_URL
from testing.audit import audit_mark, audited_since
from testing.clients import ALL_SCOPES, Sessions, file, new_caller
from testing.people import Console, new_person, sign_in
from testing.settings import Settings
from testing.workloads import demand_body, project_body, request_body

pytestmark = pytest.mark.integration
FORM = "/console/requests/new"


# (requester, body, the provider the row names)
KINDS: dict[str, tuple[str, dict[str, Any], str]] = {
    "share": ("gz-rsj", request_body("gz-gaj-household-migration", ["id_number"]), "gz-gaj"),
    "return": (
        "sz-gaj",
        request_body(
            "gd-rst-social-insurance-enrolment",
            ["id_number"],
            kind="return",
            jurisdiction="440300",
        ),
        "gd-rst",
    ),
    "demand": ("gz-gaj", demand_body("gz-rsj"), "gz-rsj"),
    "it_project": ("gz-gaj", project_body(), "gz-gaj"),  # an IT project is its own body's
}


async def _stored(sessionmaker: Sessions, request_id: str) -> DataRequest:
    async with sessionmaker() as session:
        request = await session.get(DataRequest, request_id)
    assert request is not None
    return request


async def _keyed(sessionmaker: Sessions, row: AuditEntry) -> bool:
    """The row's hash is the MAC of its content under the current AUDIT_KEY."""
    async with sessionmaker() as session:
        key = audit.keys_of(session).current
    return row.key_id == key.id and key.mac(audit.chained(row.prev_hash, row)) == row.hash


@pytest.mark.parametrize("kind", list(KINDS))
async def test_every_kind_of_filing_writes_one_row_naming_who_and_what(
    client: httpx.AsyncClient, sessionmaker: Sessions, kind: str
) -> None:
    requester, body, provider = KINDS[kind]
    caller = await new_caller(client, sessionmaker, requester, ALL_SCOPES)
    mark = await audit_mark(sessionmaker)

    filed = await file(client, caller.headers, body)

    assert filed.status_code == 201, filed.text
    request = await _stored(sessionmaker, filed.json()["id"])
    rows = await audited_since(sessionmaker, mark, actor=requester)
    assert [(r.action, r.subject) for r in rows] == [("request.filed", request.id)]
    row = rows[0]
    assert (row.actor, row.client_id, row.person_id) == (requester, caller.client_id, None)
    assert row.detail == {
        "kind": kind,
        "dataset": body.get("dataset_id"),
        "provider": provider,
        "fields": body.get("fields", []),
        "period": [request.period_start.isoformat(), request.period_end.isoformat()],
        "jurisdiction": body.get("jurisdiction"),
    }
    assert row.occurred_at == request.created_at  # one transaction, one clock
    assert await _keyed(sessionmaker, row)


async def test_a_person_filing_in_the_console_is_named(
    app: FastAPI, settings: Settings, sessionmaker: Sessions
) -> None:
    person = await new_person(sessionmaker, settings, "gz-gaj", "staff")
    today = datetime.now(UTC).date()
    form = {
        "dataset_id": "gd-rst-social-insurance-enrolment", "fields": ["id_number"],
        "purpose": "核验本区参保人员身份", "kind": "share", "start": today.isoformat(),
        "end": (today + timedelta(days=90)).isoformat(),
    }  # fmt: skip
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as browser:
        assert (await sign_in(browser, person)).status_code == 303
        mark = await audit_mark(sessionmaker)
        filed = await Console(browser, person).post(FORM, form, page=FORM)

    assert filed.status_code == 303, filed.text
    request_id = filed.headers["location"].split("/")[-1].split("?")[0]
    rows = await audited_since(sessionmaker, mark, actor="gz-gaj")
    assert [(r.action, r.subject) for r in rows] == [("request.filed", request_id)]
    assert (rows[0].client_id, rows[0].person_id) == ("console", person.person.id)


async def test_an_approval_at_filing_chains_its_grant_after_the_filing(
    client: httpx.AsyncClient, sessionmaker: Sessions
) -> None:
    caller = await new_caller(client, sessionmaker, "gz-gaj", ALL_SCOPES)
    mark = await audit_mark(sessionmaker)

    filed = await file(
        client, caller.headers, request_body("gd-rst-labour-dispatch-licences", ["licence_number"])
    )

    assert filed.status_code == 201, filed.text
    assert filed.json()["status"] == "approved"
    rows = await audited_since(sessionmaker, mark, actor="gz-gaj")
    assert [(r.action, r.subject) for r in rows] == [
        ("request.filed", filed.json()["id"]),
        ("grant.issued", filed.json()["grant_id"]),
    ]
    assert {(r.client_id, r.person_id) for r in rows} == {(caller.client_id, None)}
    filed_row, grant_row = rows
    # One transaction holds one chain: the grant's row follows the filing's directly.
    assert filed_row.chain == grant_row.chain == audit.chain_of(filed.json()["id"])
    assert grant_row.prev_hash == filed_row.hash
    assert await _keyed(sessionmaker, filed_row)
    assert await _keyed(sessionmaker, grant_row)


async def test_a_repeat_with_the_same_key_writes_no_second_row(
    client: httpx.AsyncClient, sessionmaker: Sessions
) -> None:
    caller = await new_caller(client, sessionmaker, "gz-rsj", ALL_SCOPES)
    key = {"Idempotency-Key": secrets.token_hex(8)}
    body = request_body("gz-gaj-household-migration", ["id_number"])
    first = await file(client, caller.headers, body, extra_headers=key)
    assert first.status_code == 201, first.text
    mark = await audit_mark(sessionmaker)

    again = await file(client, caller.headers, body, extra_headers=key)
    reused = await file(client, caller.headers, body | {"fields": ["name"]}, extra_headers=key)

    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    assert reused.status_code == 409
    assert await audited_since(sessionmaker, mark, actor="gz-rsj") == []


async def test_a_refused_filing_writes_no_row(
    client: httpx.AsyncClient, sessionmaker: Sessions
) -> None:
    caller = await new_caller(client, sessionmaker, "gz-rsj", ALL_SCOPES)
    reader = await new_caller(client, sessionmaker, "gz-rsj", "requests:read")
    body = request_body("gz-gaj-household-migration", ["id_number"])
    mark = await audit_mark(sessionmaker)

    invalid = await file(client, caller.headers, body | {"fields": ["shoe_size"]})
    not_shareable = await file(client, caller.headers, request_body("gd-gat-fugitives", ["name"]))
    wrong_scope = await file(client, reader.headers, body)

    assert invalid.status_code == 422, invalid.text
    assert not_shareable.status_code == 422, not_shareable.text
    assert not_shareable.json()["type"].endswith("/not-shareable")
    assert wrong_scope.status_code == 403, wrong_scope.text
    assert await audited_since(sessionmaker, mark, actor="gz-rsj") == []
