"""Revision 0017 gives appointments recorded before receipts existed theirs: per bureau and year
in the order recorded, on PostgreSQL and on SQLite."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from broker.migrate import upgrade
from core.db import create_engine
from core.models.directory import Appointment, Organisation
from testing.database import Database

pytestmark = pytest.mark.integration

BODIES = [
    # id, kind, level, government, parent, division code
    ("gd-gov", "government", "province", None, None, "440000"),
    ("gd-dsb", "data_bureau", "province", "gd-gov", None, "440000"),
    ("gz-gov", "government", "city", None, "gd-gov", "440100"),
    ("gz-dsb", "data_bureau", "city", "gz-gov", None, "440100"),
    ("gz-gaj", "department", "city", "gz-gov", None, "440100"),
]


async def test_existing_appointments_get_receipts_in_the_order_recorded(
    fresh_database: Database,
) -> None:
    db = fresh_database
    await asyncio.to_thread(upgrade, db.owner_url, "0016")
    recorded = [  # (body, bureau, recorded at): two years at the province, one in Guangzhou
        ("gz-gov", "gd-dsb", datetime(2021, 5, 10, 2, tzinfo=UTC)),
        ("gd-gov", "gd-dsb", datetime(2021, 5, 6, 2, tzinfo=UTC)),
        ("gd-dsb", "gd-dsb", datetime(2021, 12, 31, 17, tzinfo=UTC)),  # 1 Jan 2022 in Beijing
        ("gz-gaj", "gz-dsb", datetime(2021, 5, 20, 2, tzinfo=UTC)),
    ]
    columns = ("id", "organisation_id", "person_name", "title", "appointed_by", "filed_with_id")
    owner = create_engine(db.owner_url)
    try:
        async with owner.begin() as connection:
            for org_id, kind, level, government, parent, code in BODIES:
                await connection.execute(
                    insert(Organisation.__table__).values(
                        id=org_id, name=org_id, name_en=org_id, kind=kind, level=level,
                        division_code=code, government_id=government, parent_id=parent,
                        pilot=True, created_at=datetime(2021, 5, 1, tzinfo=UTC),
                    )
                )  # fmt: skip
            for n, (org_id, bureau, at) in enumerate(recorded):
                values = (f"apt_{n}", org_id, "某某", "副职", "领导小组", bureau)
                row = dict(zip(columns, values, strict=True)) | {"starts_at": at, "created_at": at}
                await connection.execute(insert(Appointment.__table__).values(row))
        await asyncio.to_thread(upgrade, db.owner_url)
        async with owner.connect() as connection:
            receipts = dict(
                (
                    await connection.execute(
                        select(Appointment.organisation_id, Appointment.filing_receipt)
                    )
                ).all()
            )
            filed_at = await connection.scalar(
                select(Appointment.filed_at).where(Appointment.id == "apt_3")
            )
    finally:
        await owner.dispose()
    assert receipts == {
        "gd-gov": "440000-2021-0001",
        "gz-gov": "440000-2021-0002",
        "gd-dsb": "440000-2022-0001",
        "gz-gaj": "440100-2021-0001",
    }
    assert filed_at == recorded[3][2]
