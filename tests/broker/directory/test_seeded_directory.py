"""The seeded directory, read through the API, matches the seed's pilot scope."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.seed.pilot import seed_pilot
from core.models.catalog import Dataset
from core.models.directory import Appointment, Organisation
from testing.clients import TokenFactory, bearer

pytestmark = pytest.mark.integration

PILOT_CITIES = {
    "440100", "440200", "440300", "440400", "440600",
    "440700", "440900", "441200", "441600", "442000",
}  # fmt: skip


async def _all(client: httpx.AsyncClient, token: str, path: str, **params: Any) -> list[Any]:
    items: list[Any] = []
    cursor = None
    while True:
        query = {**params, "limit": 37} | ({"cursor": cursor} if cursor else {})
        response = await client.get(path, headers=bearer(token), params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


@pytest.fixture(scope="module")
async def organisations(
    client: httpx.AsyncClient,
    token_for: TokenFactory,
    city_department: str,
    seeded: dict[str, Any],
) -> list[dict[str, Any]]:
    everything = await _all(
        client, await token_for(city_department, "requests:read"), "/v1/organisations"
    )
    # The seed's bodies only: other tests add bodies of their own (test-…, authz-…), and a
    # test run in another order must not count them as the seed's.
    in_seed = {o["id"] for o in seeded["organisations"]}
    return [o for o in everything if o["id"] in in_seed]


def test_the_province_its_bureau_and_six_pilot_departments(
    organisations: list[dict[str, Any]],
) -> None:
    province = [o for o in organisations if o["level"] == "province"]
    kinds = Counter((o["kind"], o["pilot"]) for o in province)
    assert kinds[("government", True)] == 1
    assert kinds[("data_bureau", True)] == 1
    assert kinds[("department", True)] == 6
    government = next(o for o in province if o["kind"] == "government")
    assert government["division_code"] == "440000"


def test_the_ten_pilot_cities_with_bureau_counties_and_departments(
    organisations: list[dict[str, Any]],
) -> None:
    cities = [o for o in organisations if o["kind"] == "government" and o["level"] == "city"]
    pilot_cities = {o["division_code"]: o for o in cities if o["pilot"]}
    assert set(pilot_cities) == PILOT_CITIES
    for city in pilot_cities.values():
        members = [o for o in organisations if o["government_id"] == city["id"] and o["pilot"]]
        below = [o for o in organisations if o["parent_id"] == city["id"] and o["pilot"]]
        assert sum(o["kind"] == "data_bureau" for o in members) == 1, city["name"]
        assert sum(o["kind"] == "department" for o in members) >= 5, city["name"]
        assert len(below) >= 3, city["name"]
        expected_level = "town" if city["division_code"] == "442000" else "county"
        assert {o["level"] for o in below} == {expected_level}, city["name"]


def test_one_active_cdo_for_every_pilot_body_and_none_outside(
    organisations: list[dict[str, Any]],
) -> None:
    outside = [o for o in organisations if not o["pilot"]]
    assert outside, "the seed has bodies outside the pilot"
    assert all(o["cdo"] is None for o in outside)
    assert all(o["cdo"] is not None for o in organisations if o["pilot"])


async def test_filters_by_level_kind_and_parent(
    client: httpx.AsyncClient, token_for: TokenFactory, city_department: str
) -> None:
    token = await token_for(city_department, "requests:read")
    guangzhou = next(
        o
        for o in await _all(client, token, "/v1/organisations", level="city", kind="government")
        if o["division_code"] == "440100"
    )
    districts = await _all(client, token, "/v1/organisations", parent_id=guangzhou["id"])
    assert len(districts) >= 3
    assert all(d["level"] == "county" for d in districts)
    one = await client.get(f"/v1/organisations/{guangzhou['id']}", headers=bearer(token))
    assert one.json()["cdo"]["person_name"]
    missing = await client.get("/v1/organisations/nowhere", headers=bearer(token))
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


async def _counts(session: AsyncSession) -> tuple[int, int, int]:
    return (
        await session.scalar(select(func.count()).select_from(Organisation)) or 0,
        await session.scalar(select(func.count()).select_from(Appointment)) or 0,
        await session.scalar(select(func.count()).select_from(Dataset)) or 0,
    )


async def test_seeding_twice_changes_nothing(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: dict[str, Any]
) -> None:
    async with sessionmaker() as session:
        before = await _counts(session)
        report = await seed_pilot(session, seeded)
        await session.commit()
        after = await _counts(session)

    assert (report.organisations, report.appointments, report.datasets) == (0, 0, 0)
    assert before == after
    assert before[0] >= len(seeded["organisations"])


async def test_catalog_covers_the_three_sharing_classes(
    client: httpx.AsyncClient, token_for: TokenFactory, city_department: str
) -> None:
    token = await token_for(city_department, "requests:read")
    datasets = await _all(client, token, "/v1/datasets")
    assert len(datasets) >= 30
    assert {d["sharing_class"] for d in datasets} == {
        "unconditional",
        "conditional",
        "not_shareable",
    }
    conditional = await _all(client, token, "/v1/datasets", sharing_class="conditional")
    assert conditional
    assert all(d["sharing_class"] == "conditional" for d in conditional)
    one = (await client.get(f"/v1/datasets/{datasets[0]['id']}", headers=bearer(token))).json()
    assert one["fields"]
    assert {"name", "label"} <= one["fields"][0].keys()
