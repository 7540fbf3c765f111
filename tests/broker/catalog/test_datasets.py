"""The catalog API: every client reads, catalog admins add and reclassify."""

from __future__ import annotations

import secrets

import httpx
import pytest

from testing.clients import TokenFactory, bearer

pytestmark = pytest.mark.integration


def _dataset(owner_id: str) -> dict[str, object]:
    return {
        "id": f"test-ds-{secrets.token_hex(4)}",
        "name": "企业登记信息",
        "name_en": "Enterprise registrations",
        "owner_id": owner_id,
        "sharing_class": "conditional",
        "fields": [
            {"name": "credit_code", "label": "统一社会信用代码"},
            {"name": "enterprise_name", "label": "企业名称"},
        ],
    }


async def test_an_admin_adds_and_reclassifies_a_dataset_others_read_it(
    client: httpx.AsyncClient, token_for: TokenFactory, province_bureau: str, city_department: str
) -> None:
    admin = bearer(await token_for(province_bureau, "catalog:admin"))
    reader = bearer(await token_for(city_department, "requests:read"))
    body = _dataset(city_department)

    created = await client.post("/v1/datasets", headers=admin, json=body)
    assert created.status_code == 201, created.text
    again = await client.post("/v1/datasets", headers=admin, json=body)
    assert again.status_code == 409

    changed = await client.patch(
        f"/v1/datasets/{body['id']}", headers=admin, json={"sharing_class": "unconditional"}
    )
    assert changed.json()["sharing_class"] == "unconditional"
    read = (await client.get(f"/v1/datasets/{body['id']}", headers=reader)).json()
    assert read["sharing_class"] == "unconditional"
    assert [f["name"] for f in read["fields"]] == ["credit_code", "enterprise_name"]
    owned = (
        await client.get("/v1/datasets", headers=reader, params={"owner_id": city_department})
    ).json()["items"]
    assert body["id"] in {d["id"] for d in owned}


async def test_bad_datasets_are_422_naming_the_field_and_nothing_is_stored(
    client: httpx.AsyncClient, token_for: TokenFactory, province_bureau: str, city_department: str
) -> None:
    admin = bearer(await token_for(province_bureau, "catalog:admin"))
    duplicate_fields = _dataset(city_department)
    duplicate_fields["fields"] = [{"name": "a", "label": "甲"}, {"name": "a", "label": "乙"}]
    government_owner = _dataset("gd-gov")

    for field, body in [("fields", duplicate_fields), ("owner_id", government_owner)]:
        response = await client.post("/v1/datasets", headers=admin, json=body)
        assert response.status_code == 422, response.text
        assert response.json()["detail"].startswith(field)
        assert (await client.get(f"/v1/datasets/{body['id']}", headers=admin)).status_code == 404


async def test_pages_are_bounded(
    client: httpx.AsyncClient, token_for: TokenFactory, city_department: str
) -> None:
    reader = bearer(await token_for(city_department, "requests:read"))
    too_big = await client.get("/v1/datasets", headers=reader, params={"limit": 100000})
    assert too_big.status_code == 422
    assert too_big.json()["errors"][0]["field"] == "limit"
    bad_cursor = await client.get("/v1/datasets", headers=reader, params={"cursor": "%%%"})
    assert bad_cursor.status_code == 422


async def test_a_dataset_is_graded_described_and_its_sensitive_fields_are_personal(
    client: httpx.AsyncClient, token_for: TokenFactory, province_bureau: str, city_department: str
) -> None:
    admin = bearer(await token_for(province_bureau, "catalog:admin"))
    body = _dataset(city_department) | {
        "grade": "important",
        "resource_code": "440100-TEST-0001",
        "sharing_conditions": "仅限行政审批使用",
        "sharing_method": "table",
        "update_cycle": "monthly",
        "open_attribute": "not_open",
    }
    body["fields"] = [
        {"name": "credit_code", "label": "统一社会信用代码"},
        {"name": "legal_representative", "label": "法定代表人", "personal": True},
    ]
    created = await client.post("/v1/datasets", headers=admin, json=body)
    assert created.status_code == 201, created.text
    shown = created.json()
    assert (shown["grade"], shown["sharing_method"], shown["update_cycle"]) == (
        "important",
        "table",
        "monthly",
    )
    assert shown["status"] == "published"
    assert [f["personal"] for f in shown["fields"]] == [False, True]

    regraded = await client.patch(
        f"/v1/datasets/{body['id']}", headers=admin, json={"grade": "core"}
    )
    assert regraded.json()["grade"] == "core"
    not_personal = {"fields": [{"name": "diagnosis", "label": "诊断", "sensitive": True}]}
    refused = await client.patch(f"/v1/datasets/{body['id']}", headers=admin, json=not_personal)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"].startswith("fields")
    unknown_grade = await client.patch(
        f"/v1/datasets/{body['id']}", headers=admin, json={"grade": "secret"}
    )
    assert unknown_grade.status_code == 422
