"""`cdo-broker seed-province`: the whole of Guangdong, generated the same way from the same seed,
and written on top of the pilot without touching it."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.directory.filing import filing_bureau
from broker.directory.repository import current_view
from broker.seed.province import Size, generate
from broker.seed.province_catalog import catalog
from broker.seed.province_load import seed_province
from core.clock import utcnow
from core.models.catalog import Dataset
from core.models.directory import Appointment, Delegation, Organisation

AS_OF = date(2026, 12, 1)
SMALL = Size(cities=2, counties_per_city=2, towns_per_county=2, departments=4)


def test_the_province_has_its_21_cities_122_counties_and_about_10000_bodies() -> None:
    province = generate(seed=7, as_of=AS_OF)
    kinds = Counter((o["level"], o["kind"]) for o in province.organisations)
    assert kinds[("city", "government")] == 21
    assert kinds[("county", "government")] == 122
    assert 1400 <= kinds[("town", "government")] <= 1900
    assert 8000 <= len(province.organisations) <= 12000
    codes = {
        o["division_code"]: o["name"] for o in province.organisations if o["kind"] == "government"
    }
    assert codes["441900"] == "东莞市人民政府"  # real GB/T 2260 codes, as shipped
    assert codes["445300"] == "云浮市人民政府"
    assert codes["440106"] == "广州市天河区人民政府"
    towns = [o for o in province.organisations if o["level"] == "town"]
    assert all("generated" in o["name_en"] for o in towns)  # made-up codes say so
    datasets = catalog(province, 7)
    assert 3000 <= len(datasets) <= 7000
    # Graded and described as the catalog describes a dataset; personal fields marked.
    grades = Counter(d["grade"] for d in datasets)
    assert grades["general"] > grades["important"] > grades["core"] > 0
    assert len({d["resource_code"] for d in datasets}) == len(datasets)
    assert all(d["sharing_method"] and d["update_cycle"] for d in datasets)
    assert any(f["personal"] for d in datasets for f in d["fields"])


def test_the_same_seed_gives_the_same_province_and_another_seed_another() -> None:
    first, again = generate(seed=3, as_of=AS_OF), generate(seed=3, as_of=AS_OF)
    assert first == again
    assert generate(seed=4, as_of=AS_OF).appointments != first.appointments


def test_cdo_histories_never_overlap_and_end_by_the_day_given() -> None:
    province = generate(seed=5, as_of=AS_OF)
    terms: dict[str, list[tuple[datetime, datetime | None]]] = {}
    for a in province.appointments:
        terms.setdefault(a["organisation_id"], []).append((a["starts_at"], a["ends_at"]))
    successions = vacancies = 0
    for spans in terms.values():
        for (_, end), (next_start, _) in itertools.pairwise(spans):
            assert end is not None
            assert end <= next_start
            successions += end == next_start
            vacancies += end < next_start
    assert successions > 100
    assert vacancies > 10
    assert province.delegations
    assert all(d["starts_at"] < d["ends_at"] for d in province.delegations)


@pytest.mark.integration
async def test_the_province_is_written_over_the_pilot_filed_with_the_right_bureaus(
    province_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with province_sessions() as session:
        report = await seed_province(session, seed=11, as_of=AS_OF, size=SMALL)
        await session.commit()
    assert report.organisations > 30
    async with province_sessions() as session:
        again = await seed_province(session, seed=11, as_of=AS_OF, size=SMALL)
        await session.commit()
        assert again.as_dict()["province"]["created"] == dict.fromkeys(
            ("organisations", "appointments", "delegations", "datasets"), 0
        )

        # The pilot's Guangzhou is Guangzhou: no second government or bureau for 440100.
        guangzhou = await session.scalars(
            select(Organisation.id).where(
                Organisation.division_code == "440100", Organisation.kind != "department"
            )
        )
        assert sorted(guangzhou) == ["gz-dsb", "gz-gov"]
        view = await current_view(session, utcnow())
        appointments = list(
            await session.scalars(select(Appointment).where(Appointment.id.like("apt-p%")))
        )
        assert len(appointments) == report.appointments
        for appointment in appointments:
            assert appointment.filed_with_id == filing_bureau(view, appointment.organisation_id)
        assert await session.scalar(select(func.count()).select_from(Delegation)) > 0
        owners = set(await session.scalars(select(Dataset.owner_id)))
        assert any(owner.startswith("p4401") for owner in owners)
