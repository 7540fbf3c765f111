"""Filing (备案) through the API on the real stack: the bureau is enforced per level and kind
(422 naming the field, in Chinese unless English is asked for, nothing changed), each filing
gets the bureau's next receipt, also when two race, and the roster of a jurisdiction shows each
body's filing state to the bureaus whose jurisdiction holds it."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.calendar.deadlines import CHINA
from core.models.audit import AuditEntry
from core.models.directory import Appointment
from testing.clients import TokenFactory, bearer
from testing.organisations import fresh_body

pytestmark = pytest.mark.integration
Sessions = async_sessionmaker[AsyncSession]
PREFIX = "test-filing"
RECEIPT = re.compile(r"^(\d{6})-(\d{4})-(\d{4,})$")


@pytest.fixture
async def gz_admin(token_for: TokenFactory) -> dict[str, str]:
    return bearer(await token_for("gz-dsb", "directory:admin"))


async def new_body(sessionmaker: Sessions, *, kind: str = "department", cdo: bool = False) -> str:
    """A Guangzhou department (a county government when kind="government"), without a CDO
    unless `cdo`, which is then filed with the provincial bureau as the old seed did. `test-`
    keeps it out of the seeded directory's checks."""
    if kind == "government":
        return await fresh_body(
            sessionmaker, kind=kind, parent_id="gz-gov", level="county", cdo=cdo, prefix=PREFIX
        )
    return await fresh_body(sessionmaker, cdo=cdo, prefix=PREFIX)


def appointment(org_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "organisation_id": org_id,
        "person_name": "林备案",
        "title": "副局长",
        "appointed_by": "测试局党组",
        "starts_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
        **extra,
    }


async def test_a_wrong_bureau_is_refused_naming_the_field_and_nothing_changes(
    client: httpx.AsyncClient, gz_admin: dict[str, str], sessionmaker: Sessions
) -> None:
    county = await new_body(sessionmaker, kind="government")
    body = appointment(county, filed_with_id="gd-dsb")  # the seed's literal reading: refused
    chinese = await client.post("/v1/appointments", headers=gz_admin, json=body)
    assert chinese.status_code == 422
    problem = chinese.json()
    assert problem["type"].endswith("/wrong-filing-bureau")
    assert (problem["field"], problem["expected_filed_with_id"]) == ("filed_with_id", "gz-dsb")
    assert problem["title"] == "备案机关不符"
    assert problem["detail"].startswith("filed_with_id: ")
    assert "应报 'gz-dsb'（广州市政务服务数据管理局）备案" in problem["detail"]
    assert chinese.headers["content-language"] == "zh-CN"

    english = await client.post(
        "/v1/appointments",
        headers=gz_admin | {"Accept-Language": "en-GB,en;q=0.9,zh-CN;q=0.5"},
        json=body,
    )
    assert english.status_code == 422
    assert english.json()["title"] == "Filed with the wrong data bureau"
    assert english.json()["detail"] == (
        f"filed_with_id: the CDO of '{county}' is filed with 'gz-dsb' (Guangzhou Municipal "
        "Government Service and Data Administration), not 'gd-dsb'"
    )
    assert english.headers["content-language"] == "en"

    history = await client.get(f"/v1/organisations/{county}/appointments", headers=gz_admin)
    assert history.json() == []
    async with sessionmaker() as session:
        audited = await session.scalars(select(AuditEntry).where(AuditEntry.subject == county))
        assert list(audited) == []


async def test_filings_get_the_bureaus_next_receipts_even_when_they_race(
    client: httpx.AsyncClient, gz_admin: dict[str, str], sessionmaker: Sessions
) -> None:
    bodies = [await new_body(sessionmaker) for _ in range(3)]
    first = await client.post("/v1/appointments", headers=gz_admin, json=appointment(bodies[0]))
    assert first.status_code == 201, first.text
    racing = await asyncio.gather(
        *(
            client.post("/v1/appointments", headers=gz_admin, json=appointment(b, filed_with_id=i))
            for b, i in ((bodies[1], "gz-dsb"), (bodies[2], None))  # given or by default
        )
    )
    filed = [first.json()] + [r.json() for r in racing]
    assert all(r.status_code == 201 for r in racing), [r.text for r in racing]
    assert {a["filed_with_id"] for a in filed} == {"gz-dsb"}
    year = datetime.now(CHINA).year
    numbers = []
    for a in filed:
        match = RECEIPT.match(a["filing_receipt"])
        assert match, a["filing_receipt"]
        assert match.group(1, 2) == ("440100", str(year))
        numbers.append(int(match.group(3)))
    assert sorted(numbers) == list(range(numbers[0], numbers[0] + 3))
    async with sessionmaker() as session:
        row = await session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "cdo.appointed", AuditEntry.subject == first.json()["id"]
            )
        )
    assert row is not None
    assert (row.actor, row.detail["filed_with"], row.detail["filing_receipt"]) == (
        "gz-dsb",
        "gz-dsb",
        first.json()["filing_receipt"],
    )


async def test_the_seed_filed_its_cdos_by_the_end_of_may_2021_numbered_per_bureau(
    sessionmaker: Sessions, seeded: dict[str, Any]
) -> None:
    seeded_ids = {o["id"] for o in seeded["organisations"] if o.get("cdo")}  # type: ignore[attr-defined]
    async with sessionmaker() as session:
        rows = list(
            await session.scalars(
                select(Appointment)
                .where(Appointment.organisation_id.in_(seeded_ids), Appointment.filing_year == 2021)
                .order_by(Appointment.filed_with_id, Appointment.filing_sequence)
            )
        )
    assert {r.organisation_id for r in rows} == seeded_ids
    by_bureau: dict[str, list[Appointment]] = {}
    for row in rows:
        by_bureau.setdefault(row.filed_with_id, []).append(row)
        filed_on = row.filed_at.astimezone(CHINA).date()
        assert date(2021, 4, 23) < row.starts_at.astimezone(CHINA).date() <= filed_on
        assert filed_on <= date(2021, 5, 31), row.organisation_id
    for bureau, filings in by_bureau.items():
        assert [f.filing_sequence for f in filings] == list(range(1, len(filings) + 1)), bureau
        assert [f.filed_at for f in filings] == sorted(f.filed_at for f in filings), bureau
    assert by_bureau["gd-dsb"][0].filing_receipt == "440000-2021-0001"


async def test_the_roster_shows_filing_states_inside_the_callers_jurisdiction(
    client: httpx.AsyncClient, token_for: TokenFactory, sessionmaker: Sessions
) -> None:
    vacant = await new_body(sessionmaker)
    misfiled = await new_body(sessionmaker, cdo=True)  # filed with the province, before the rule

    gz_dsb = bearer(await token_for("gz-dsb", "requests:read"))  # any token reads it
    roster = await client.get("/v1/organisations/gz-gov/cdo-roster", headers=gz_dsb)
    assert roster.status_code == 200, roster.text
    entries = {e["organisation_id"]: e for e in roster.json()["entries"]}
    assert not {"gd-gov", "gd-dsb", "sz-gov", "sz-dsb", "sz-gaj"} & set(entries)  # not its own
    assert entries["gz-gov"]["filing_state"] == "filed"
    assert entries["gz-gov"]["filed_with_id"] == "gd-dsb"
    assert RECEIPT.match(entries["gz-gov"]["filing_receipt"]).group(1) == "440000"  # type: ignore[union-attr]
    assert entries["gz-th-gov"]["filed_with_id"] == entries["gz-gaj"]["filed_with_id"] == "gz-dsb"
    assert entries[vacant]["filing_state"] == "vacant"
    assert entries[vacant]["cdo"] is None
    assert (entries[misfiled]["filing_state"], entries[misfiled]["expected_filed_with_id"]) == (
        "misfiled",
        "gz-dsb",
    )
    counts = roster.json()["counts"]
    assert sum(counts.values()) == len(entries)
    assert counts["vacant"] >= 1

    only_vacant = await client.get(
        "/v1/organisations/gz-dsb/cdo-roster", headers=gz_dsb, params={"filing_state": "vacant"}
    )
    assert vacant in {e["organisation_id"] for e in only_vacant.json()["entries"]}
    assert {e["filing_state"] for e in only_vacant.json()["entries"]} == {"vacant"}
    pilot = await client.get(
        "/v1/organisations/gz-gov/cdo-roster", headers=gz_dsb, params={"pilot": "false"}
    )
    assert all(not e["pilot"] for e in pilot.json()["entries"])

    outside = await client.get("/v1/organisations/sz-gov/cdo-roster", headers=gz_dsb)
    assert outside.status_code == 403
    assert outside.json()["type"].endswith("/outside-jurisdiction")
    province = await client.get(
        "/v1/organisations/gd-gov/cdo-roster",
        headers=bearer(await token_for("gd-dsb", "requests:read")),
    )
    assert {"gz-gov", "sz-gov", "gd-gat", misfiled} <= {
        e["organisation_id"] for e in province.json()["entries"]
    }
    # A government is its own jurisdiction only: its roster lists itself.
    own = await client.get(
        "/v1/organisations/gz-gov/cdo-roster",
        headers=bearer(await token_for("gz-gov", "requests:read")),
    )
    assert [e["organisation_id"] for e in own.json()["entries"]] == ["gz-gov"]
    missing = await client.get("/v1/organisations/no-such-body/cdo-roster", headers=gz_dsb)
    assert missing.status_code == 404
