"""CDO appointments: one active CDO per body, successions keep the history, delegations."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from testing.clients import TokenFactory, bearer

pytestmark = pytest.mark.integration


@pytest.fixture
async def admin(token_for: TokenFactory, province_bureau: str) -> dict[str, str]:
    return bearer(await token_for(province_bureau, "directory:admin requests:read"))


@pytest.fixture
async def new_body(client: httpx.AsyncClient, admin: dict[str, str], seeded: Any) -> str:
    """A fresh department under the province, so each test owns its appointment history."""
    org_id = f"test-dept-{secrets.token_hex(4)}"
    response = await client.post(
        "/v1/organisations",
        headers=admin,
        json={
            "id": org_id,
            "name": "测试厅",
            "name_en": "Test department",
            "kind": "department",
            "level": "province",
            "division_code": "440000",
            "government_id": "gd-gov",
            "pilot": True,
        },
    )
    assert response.status_code == 201, response.text
    return org_id


def _appointment(org_id: str, bureau: str, starts: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "organisation_id": org_id,
        "person_name": "陈测试",
        "title": "副厅长",
        "appointed_by": "测试厅党组",
        "filed_with_id": bureau,
        "starts_at": starts.isoformat(),
        **extra,
    }


async def test_a_second_active_cdo_is_refused_and_a_succession_keeps_history(
    client: httpx.AsyncClient, admin: dict[str, str], new_body: str, province_bureau: str
) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    first = await client.post(
        "/v1/appointments", headers=admin, json=_appointment(new_body, province_bureau, start)
    )
    assert first.status_code == 201, first.text

    clash = await client.post(
        "/v1/appointments",
        headers=admin,
        json=_appointment(new_body, province_bureau, start + timedelta(days=30)),
    )
    assert clash.status_code == 409
    assert clash.headers["content-type"] == "application/problem+json"
    assert clash.json()["conflicting_appointment_id"] == first.json()["id"]

    successor_start = datetime.now(UTC) - timedelta(days=1)
    successor = await client.post(
        "/v1/appointments",
        headers=admin,
        json=_appointment(
            new_body,
            province_bureau,
            successor_start,
            person_name="李继任",
            replaces=first.json()["id"],
        ),
    )
    assert successor.status_code == 201, successor.text

    history = (await client.get(f"/v1/organisations/{new_body}/appointments", headers=admin)).json()
    assert [a["person_name"] for a in history] == ["陈测试", "李继任"]
    assert datetime.fromisoformat(history[0]["ends_at"]) == successor_start
    body = (await client.get(f"/v1/organisations/{new_body}", headers=admin)).json()
    assert body["cdo"]["person_name"] == "李继任"


async def test_ending_an_appointment_leaves_the_body_without_a_cdo_and_keeps_the_row(
    client: httpx.AsyncClient, admin: dict[str, str], new_body: str, province_bureau: str
) -> None:
    created = await client.post(
        "/v1/appointments",
        headers=admin,
        json=_appointment(new_body, province_bureau, datetime(2024, 3, 1, tzinfo=UTC)),
    )
    ended = await client.post(
        f"/v1/appointments/{created.json()['id']}/end", headers=admin, json={"reason": "调任"}
    )
    assert ended.status_code == 200, ended.text

    body = (await client.get(f"/v1/organisations/{new_body}", headers=admin)).json()
    assert body["cdo"] is None
    history = (await client.get(f"/v1/organisations/{new_body}/appointments", headers=admin)).json()
    assert history[0]["end_reason"] == "调任"


async def test_appointment_errors_name_the_field(
    client: httpx.AsyncClient, admin: dict[str, str], new_body: str, city_department: str
) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    cases = {
        "filed_with_id": _appointment(new_body, city_department, start),  # not a bureau
        "ends_at": _appointment(
            new_body, "gd-dsb", start, ends_at=(start - timedelta(days=1)).isoformat()
        ),
        "starts_at": _appointment(new_body, "gd-dsb", start) | {"starts_at": "2024-01-01T00:00"},
    }
    for field, payload in cases.items():
        response = await client.post("/v1/appointments", headers=admin, json=payload)
        assert response.status_code == 422, (field, response.text)
        assert field in response.json()["detail"], response.json()
    history = (await client.get(f"/v1/organisations/{new_body}/appointments", headers=admin)).json()
    assert history == []


async def test_only_directory_admins_appoint(
    client: httpx.AsyncClient, token_for: TokenFactory, new_body: str, province_bureau: str
) -> None:
    token = await token_for(new_body, "requests:read approvals:decide")
    response = await client.post(
        "/v1/appointments",
        headers=bearer(token),
        json=_appointment(new_body, province_bureau, datetime(2024, 1, 1, tzinfo=UTC)),
    )
    assert response.status_code == 403


async def test_a_cdo_delegates_to_a_named_deputy_for_a_period(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    token_for: TokenFactory,
    new_body: str,
    province_bureau: str,
) -> None:
    token = bearer(await token_for(new_body, "approvals:decide"))
    now = datetime.now(UTC)
    delegation = {
        "delegate_name": "王副手",
        "delegate_title": "处长",
        "starts_at": now.isoformat(),
        "ends_at": (now + timedelta(days=14)).isoformat(),
        "reason": "出差",
    }
    refused = await client.post("/v1/delegations", headers=token, json=delegation)
    assert refused.status_code == 422  # no CDO yet
    assert refused.json()["type"].endswith("/no-active-cdo")

    await client.post(
        "/v1/appointments",
        headers=admin,
        json=_appointment(new_body, province_bureau, now - timedelta(days=10)),
    )
    created = await client.post("/v1/delegations", headers=token, json=delegation)
    assert created.status_code == 201, created.text
    assert created.json()["delegate_org_id"] == new_body

    listed = (await client.get(f"/v1/organisations/{new_body}/delegations", headers=admin)).json()
    assert [d["delegate_name"] for d in listed] == ["王副手"]

    other_body = await client.post(
        "/v1/delegations", headers=token, json=delegation | {"organisation_id": "gd-gov"}
    )
    assert other_body.status_code == 403
